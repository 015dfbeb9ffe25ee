import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import YAML from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { zodLine } from '../lab/topology.js';

/**
 * The inventory (`-i hosts.yaml`): the real machines a lab spans, how to reach each over SSH and
 * which NIC carries its lab traffic. Validated with zod, then checked for what a schema cannot say
 * (duplicates, a key file that is not there). Every failure is one InputError line (exit 2), and
 * nothing is contacted or changed before this passes.
 *
 *   hosts:
 *     - { name: a, ssh: root@host-a, nic: eth1 }
 *     - { name: b, ssh: ops@host-b, nic: eth1, sudo: true, port: 2222, key: ~/.ssh/lab }
 *   ssh_config: lab-ssh.conf        # optional: used instead of ~/.ssh/config (ssh -F)
 */

/**
 * A host's name becomes its namespace `cnl-<lab>-<name>`: lowercase letters and digits (no hyphen,
 * which separates lab from node), starting with a letter, and never a name the lab gives its own
 * nodes (h1, h1c2, sw).
 */
export const HOST_NAME = /^[a-z][a-z0-9]{0,14}$/;
const NODE_NAME = /^(?:h\d+(?:c\d+)?|sw)$/;
/** A Linux interface name as the kernel takes it (≤15 bytes, no '/', ':' or space), not an option. */
const NIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
/** A login name as Debian's adduser accepts it by default. */
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** A DNS name: dot-separated labels of letters, digits and inner hyphens. */
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const MAX_BYTES = 256 * 1024;

export const NIC_MODES = ['macvlan', 'passthru', 'ipvlan'] as const;

function validAddress(host: string): boolean {
  if (DNS_NAME.test(host) && !/^[\d.]+$/.test(host)) return true;
  return ipaddr.isValid(host) && (ipaddr.IPv4.isValidFourPartDecimal(host) || host.includes(':'));
}

const sshTarget = z.string().superRefine((s, ctx) => {
  const at = s.indexOf('@');
  const user = s.slice(0, at);
  const host = s.slice(at + 1);
  if (at < 0) ctx.addIssue({ code: 'custom', message: `must be user@host, got "${s}"` });
  else if (!USER.test(user))
    ctx.addIssue({ code: 'custom', message: `has a bad user "${user}" (letters, digits, _ and -, starting with a letter or _)` });
  else if (!validAddress(host)) ctx.addIssue({ code: 'custom', message: `has a bad host "${host}" (a DNS name or an IP address)` });
});

const hostSchema = z
  .object({
    name: z
      .string()
      .regex(HOST_NAME, 'must be 1-15 lowercase letters or digits, starting with a letter (it names namespace cnl-<lab>-<name>)')
      .refine((n) => !NODE_NAME.test(n), 'must not be a name cnlab gives its own nodes (h<N>, h<N>c<M>, sw)'),
    ssh: sshTarget,
    nic: z.string().regex(NIC_NAME, 'must be an interface name like eth1 (1-15 letters, digits, _ . -, not starting with - . _)'),
    sudo: z.boolean().default(false),
    port: z.number().int('must be a whole number').min(1, 'must be 1-65535').max(65535, 'must be 1-65535').default(22),
    key: z.string().min(1, 'must not be empty').optional(),
    nic_mode: z.enum(NIC_MODES, { errorMap: () => ({ message: `must be one of ${NIC_MODES.join(', ')}` }) }).default('macvlan'),
  })
  .strict();

const inventorySchema = z
  .object({
    hosts: z.array(hostSchema).min(1, 'must list at least one host').max(64, 'must list at most 64 hosts'),
    ssh_config: z.string().min(1, 'must not be empty').optional(),
  })
  .strict();

export type InventoryHost = z.infer<typeof hostSchema>;

export interface Inventory {
  /** The file it came from (for messages). */
  source: string;
  hosts: InventoryHost[];
  /** An ssh_config(5) file used instead of ~/.ssh/config (absolute), when the inventory names one. */
  sshConfig?: string;
}

/** `~/x` → $HOME/x; a relative path is taken from the inventory file's directory. */
export function keyPath(key: string, inventoryDir: string, home = homedir()): string {
  if (key === '~' || key.startsWith('~/')) return resolve(home, key.slice(2));
  if (key.startsWith('~')) throw new InputError(`"${key}": only ~/ (your own home) is understood`);
  return isAbsolute(key) ? key : resolve(inventoryDir, key);
}

function readable(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.R_OK);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
  }
}

/** Validate an already-parsed inventory document. `dir` resolves relative key paths. */
export function parseInventory(doc: unknown, source: string, dir: string): Inventory {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new InputError(`bad inventory ${source}: expected a mapping with a "hosts" list`);
  const parsed = inventorySchema.safeParse(doc);
  if (!parsed.success) throw new InputError(zodLine(parsed.error, source), 'see README "On your own hosts" for the format');
  const hosts = parsed.data.hosts;
  const seen = new Map<string, string>();
  for (const [i, h] of hosts.entries()) {
    const where = `${source}: hosts.${i} (${h.name})`;
    const key = (what: string, value: string) => {
      const first = seen.get(`${what}\0${value}`);
      if (first) throw new InputError(`${where}: ${what} ${value} is also ${first}`, 'each machine is listed once');
      seen.set(`${what}\0${value}`, `host ${h.name}`);
    };
    key('name', h.name);
    const at = h.ssh.indexOf('@');
    key('machine', `${h.ssh.slice(at + 1).toLowerCase()} port ${h.port}`);
    if (h.key !== undefined) {
      if (/[\0\n\r]/.test(h.key)) throw new InputError(`${where}: key holds a control character`);
      h.key = keyPath(h.key, dir);
      const why = readable(h.key);
      if (why) throw new InputError(`${where}: key ${h.key} ${why}`);
    }
  }
  let sshConfig: string | undefined;
  if (parsed.data.ssh_config !== undefined) {
    if (/[\0\n\r]/.test(parsed.data.ssh_config)) throw new InputError(`${source}: ssh_config holds a control character`);
    sshConfig = keyPath(parsed.data.ssh_config, dir);
    const why = readable(sshConfig);
    if (why) throw new InputError(`${source}: ssh_config ${sshConfig} ${why}`);
  }
  return sshConfig ? { source, hosts, sshConfig } : { source, hosts };
}

/** Read and validate an inventory file; one InputError line on any problem. */
export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    if (statSync(path).size > MAX_BYTES) throw new InputError(`inventory ${path} is larger than ${MAX_BYTES / 1024} KiB`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read inventory ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    throw new InputError(`bad YAML in ${path}: ${String((e as Error).message).split('\n')[0]}`);
  }
  return parseInventory(doc, path, resolve(path, '..'));
}
