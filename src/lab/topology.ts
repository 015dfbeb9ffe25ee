import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { BENCHMARK_RANGE, cidrText, overlaps, contains, parseCidr, size } from './ipv4.js';
import type { Topology } from './types.js';

/**
 * Topology input: a YAML file and/or command-line flags, validated with zod, then checked for
 * what a schema cannot say (address ranges, overlaps, room in the address plan).
 * Every failure is one InputError line; nothing is created before this passes.
 */

export const LAB_NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
const RATE = /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit|tbit|k|m|g|t)?$/i;

const cidr = z.string().refine((s) => parseCidr(s) !== null, 'must be an IPv4 CIDR like 198.18.0.0/24');

const topologySchema = z
  .object({
    lab: z.string().regex(LAB_NAME, 'must be 1-16 lowercase letters, digits or inner hyphens, starting with a letter'),
    hosts: z.number().int('must be a whole number').min(2, 'must be at least 2').max(250, 'must be at most 250'),
    containersPerHost: z.number().int('must be a whole number').min(1, 'must be at least 1').max(4000, 'must be at most 4000'),
    sameHost: z.boolean(),
    underlay: z
      .object({
        cidr,
        mtu: z.number().int('must be a whole number').min(1280, 'must be at least 1280').max(9000, 'must be at most 9000'),
        rate: z.string().regex(RATE, 'must be a rate like 1gbit, 10G or 500mbit').optional(),
      })
      .strict(),
    pods: z
      .object({
        cidr,
        blockPrefix: z.number().int('must be a whole number').min(8).max(29, 'must be at most 29'),
      })
      .strict(),
    allowAddresses: z.boolean(),
    offloads: z.enum(['on', 'off'], { errorMap: () => ({ message: 'must be on or off' }) }).optional(),
    controlPlane: z.enum(['static', 'real'], { errorMap: () => ({ message: 'must be static or real' }) }).optional(),
    bgp: z.enum(['mesh', 'rr'], { errorMap: () => ({ message: 'must be mesh or rr' }) }).optional(),
    etcd: z.union([z.literal(1), z.literal(3)], { errorMap: () => ({ message: 'must be 1 or 3 (etcd members)' }) }).optional(),
    tenants: z.number().int('must be a whole number').min(1, 'must be at least 1').max(16, 'must be at most 16').optional(),
    overlap: z.boolean().optional(),
  })
  .strict();

export const DEFAULT_TOPOLOGY: Topology = {
  lab: 'run',
  hosts: 2,
  containersPerHost: 1,
  sameHost: true,
  underlay: { cidr: '198.18.0.0/24', mtu: 1500 },
  pods: { cidr: '198.19.0.0/16', blockPrefix: 24 },
  allowAddresses: false,
};

/** Flags that shape the topology; each overrides the file's value. */
export interface TopologyFlags {
  topology?: string;
  lab?: string;
  hosts?: string | number;
  containers?: string | number;
  sameHost?: boolean;
  underlay?: string;
  pods?: string;
  podBlock?: string | number;
  mtu?: string | number;
  linkRate?: string;
  allowAddresses?: boolean;
  offloads?: string;
  controlPlane?: string;
  bgp?: string;
  etcd?: string | number;
  tenants?: string | number;
  overlap?: boolean;
}

/** Numbers from flags: anything but a plain integer stays a string so the schema rejects it. */
function num(v: string | number | undefined): unknown {
  if (v === undefined || typeof v === 'number') return v;
  return /^-?\d+$/.test(v.trim()) ? Number(v) : v;
}

function readFileInput(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read topology file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text, { prettyErrors: false });
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    throw new InputError(`bad YAML in ${path}: ${first}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new InputError(`bad topology ${path}: expected a mapping of keys`);
  return doc as Record<string, unknown>;
}

function merge(file: Record<string, unknown>, f: TopologyFlags): Record<string, unknown> {
  const d = DEFAULT_TOPOLOGY;
  const fu = (file.underlay ?? {}) as Record<string, unknown>;
  const fp = (file.pods ?? {}) as Record<string, unknown>;
  const pick = <T>(flag: T | undefined, fromFile: unknown, dflt: unknown) =>
    flag !== undefined ? flag : fromFile !== undefined ? fromFile : dflt;
  return {
    ...file,
    lab: pick(f.lab, file.lab, d.lab),
    hosts: pick(num(f.hosts), file.hosts, d.hosts),
    containersPerHost: pick(num(f.containers), file.containersPerHost, d.containersPerHost),
    sameHost: pick(f.sameHost, file.sameHost, d.sameHost),
    underlay:
      typeof file.underlay === 'object' && file.underlay !== null
        ? {
            ...fu,
            cidr: pick(f.underlay, fu.cidr, d.underlay.cidr),
            mtu: pick(num(f.mtu), fu.mtu, d.underlay.mtu),
            rate: pick(f.linkRate, fu.rate, undefined),
          }
        : (file.underlay ?? { cidr: f.underlay ?? d.underlay.cidr, mtu: num(f.mtu) ?? d.underlay.mtu, rate: f.linkRate }),
    pods:
      typeof file.pods === 'object' && file.pods !== null
        ? { ...fp, cidr: pick(f.pods, fp.cidr, d.pods.cidr), blockPrefix: pick(num(f.podBlock), fp.blockPrefix, d.pods.blockPrefix) }
        : (file.pods ?? { cidr: f.pods ?? d.pods.cidr, blockPrefix: num(f.podBlock) ?? d.pods.blockPrefix }),
    allowAddresses: pick(f.allowAddresses, file.allowAddresses, d.allowAddresses),
    offloads: pick(f.offloads, file.offloads, undefined),
    controlPlane: pick(f.controlPlane, file.controlPlane, undefined),
    bgp: pick(f.bgp, file.bgp, undefined),
    etcd: pick(num(f.etcd), file.etcd, undefined),
    tenants: pick(num(f.tenants), file.tenants, undefined),
    overlap: pick(f.overlap, file.overlap, undefined),
  };
}

export function zodLine(err: z.ZodError, source: string): string {
  const issue = err.issues[0];
  const where = issue.path.join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys')
    return `${source}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}${issue.path.length ? ` in ${where}` : ''}`;
  if (issue.code === 'invalid_type') return `${source}: ${where} must be ${issue.expected}, got ${issue.received}`;
  return `${source}: ${where} ${issue.message}`;
}

/** Normalise "10G" / "1gbit" / "500m" to tc's "<n><unit>bit" form. */
export function normaliseRate(rate: string): string {
  const m = RATE.exec(rate.trim());
  if (!m) throw new InputError(`bad link rate "${rate}": use a rate like 1gbit, 10G or 500mbit`);
  const unit = (m[2] ?? 'bit').toLowerCase();
  const prefix = unit.endsWith('bit') ? unit.slice(0, -3) : unit;
  return `${m[1]}${prefix}bit`;
}

/** Input → validated Topology, or one InputError line. Pure but for reading the file. */
export function loadTopology(flags: TopologyFlags): Topology {
  const source = flags.topology ?? 'flags';
  return parseTopology(merge(flags.topology ? readFileInput(flags.topology) : {}, flags), source);
}

/** A topology object (e.g. the one a lab's state file records) → validated Topology, or one InputError line. */
export function parseTopology(raw: unknown, source: string): Topology {
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) throw new InputError(zodLine(parsed.error, source));
  const t = parsed.data as Topology;
  if (t.underlay.rate) t.underlay.rate = normaliseRate(t.underlay.rate);
  if (t.overlap && (t.tenants ?? 0) < 2)
    throw new InputError(`${source}: overlap needs --tenants 2 or more (tenants that share addresses)`);
  checkAddressPlan(t, source);
  return t;
}

/** What the schema cannot say: ranges, overlaps and room for every host and container. */
export function checkAddressPlan(t: Topology, source: string): void {
  const under = parseCidr(t.underlay.cidr)!;
  const pods = parseCidr(t.pods.cidr)!;
  if (!t.allowAddresses) {
    for (const [what, c] of [
      ['underlay', under],
      ['pod network', pods],
    ] as const) {
      if (!contains(BENCHMARK_RANGE, c)) {
        throw new InputError(
          `${source}: ${what} ${cidrText(c)} is outside the benchmark range ${cidrText(BENCHMARK_RANGE)}`,
          'use addresses from 198.18.0.0/15, or pass --allow-addresses if you really mean it',
        );
      }
    }
  }
  if (overlaps(under, pods)) {
    throw new InputError(`${source}: underlay ${cidrText(under)} overlaps the pod network ${cidrText(pods)}`, 'give them disjoint ranges');
  }
  if (t.hosts > size(under) - 2) {
    throw new InputError(
      `${source}: ${t.hosts} hosts do not fit the underlay ${cidrText(under)} (${size(under) - 2} addresses)`,
      'use a larger --underlay',
    );
  }
  if (t.pods.blockPrefix < pods.prefix) {
    throw new InputError(`${source}: pod block /${t.pods.blockPrefix} is larger than the pod network ${cidrText(pods)}`);
  }
  const blocks = 2 ** (t.pods.blockPrefix - pods.prefix);
  if (t.hosts > blocks - 1) {
    throw new InputError(
      `${source}: ${t.hosts} hosts need ${t.hosts} pod blocks of /${t.pods.blockPrefix}, ${cidrText(pods)} has ${blocks - 1}`,
      'use a longer --pod-block or a larger --pods',
    );
  }
  const perHost = t.containersPerHost + (t.sameHost ? 1 : 0);
  const room = 2 ** (32 - t.pods.blockPrefix) - 3;
  if (perHost > room) {
    throw new InputError(
      `${source}: ${perHost} containers on a host do not fit a /${t.pods.blockPrefix} pod block (${room} addresses)`,
      'use a shorter --pod-block',
    );
  }
}
