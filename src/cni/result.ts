import { isIP } from 'node:net';
import { z } from 'zod';
import { RunError } from '../errors.js';
import { issuePath } from './conflist.js';

/**
 * The CNI 1.0 success result a plugin prints for ADD. Unknown fields are kept (passthrough) so a
 * result chained into the next plugin as `prevResult` is passed on exactly as it came.
 */

function isCidr(text: string): boolean {
  const [addr, prefix, ...rest] = text.split('/');
  if (rest.length || addr === undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(addr);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

const cidr = z.string().refine(isCidr, 'must be an address in CIDR form (a.b.c.d/nn)');
const ip = z.string().refine((s) => isIP(s) !== 0, 'must be an IP address');

const resultSchema = z
  .object({
    cniVersion: z.string().min(1),
    interfaces: z
      .array(
        z
          .object({
            name: z.string().min(1),
            mac: z.string().optional(),
            sandbox: z.string().optional(),
            mtu: z.number().int().positive().optional(),
          })
          .passthrough(),
      )
      .optional(),
    ips: z
      .array(z.object({ address: cidr, gateway: ip.optional(), interface: z.number().int().nonnegative().optional() }).passthrough())
      .optional(),
    routes: z.array(z.object({ dst: cidr, gw: ip.optional() }).passthrough()).optional(),
    dns: z
      .object({
        nameservers: z.array(z.string()).optional(),
        domain: z.string().optional(),
        search: z.array(z.string()).optional(),
        options: z.array(z.string()).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

export type CniResult = z.infer<typeof resultSchema>;

/** Parse a plugin's ADD output (pure). Throws RunError with one line saying what is wrong. */
export function parseResult(stdout: string): CniResult {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    const shown = stdout.trim().slice(0, 200) || '(empty output)';
    throw new RunError(`not a JSON result: ${shown}`);
  }
  const parsed = resultSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issuePath(issue.path) : '';
    throw new RunError(`bad CNI result: ${where ? `${where} ` : ''}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * The first IPv4 address (without its prefix) that the result puts on interface `ifName` inside
 * the sandbox (the container's namespace), or undefined when there is none.
 */
export function containerAddress(result: CniResult, ifName: string): string | undefined {
  const interfaces = result.interfaces ?? [];
  for (const entry of result.ips ?? []) {
    if (entry.interface === undefined) continue;
    const iface = interfaces[entry.interface];
    if (!iface || iface.name !== ifName || !iface.sandbox) continue;
    const addr = entry.address.split('/')[0] ?? '';
    if (isIP(addr) === 4) return addr;
  }
  return undefined;
}
