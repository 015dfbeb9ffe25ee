import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeNetnsEtc, writeNetnsEtc } from '../../apply/netns-etc.js';
import { detect, unmet } from '../../caps/detect.js';
import type { Evidence, Verdict } from '../../result/verify.js';
import { DNSMASQ, dnsmasqArgs, hostsFile, nameServiceOf, resolvConf, type NameService } from '../dns.js';
import { crossPair } from '../traffic.js';
import { NotRun, type Background, type Probe, type ProbeContext } from '../types.js';

/**
 * Probe 4, name service: a container looks its cross-host peer up by name, through the system
 * resolver (`getent hosts`, glibc) run with `ip netns exec`, which binds the files cnlab writes
 * under /etc/netns/<container namespace>/ — resolv.conf, nsswitch.conf ("hosts: files dns"), an
 * empty hosts — over /etc for that lookup only, so it never reaches the machine's own resolver.
 * Where the product has a name service (weaveDNS, Docker's embedded DNS), cnlab builds it first
 * (src/verify/dns.ts: dnsmasq per host, a stand-in) and the resolv.conf names it; elsewhere the
 * resolv.conf names no server, and the lookup is made all the same: it fails, measured.
 */

export interface Lookup {
  /** The container that asked. */
  from: string;
  name: string;
  /** The peer's address. */
  want: string;
  /** The addresses getent printed. */
  got: string[];
  code: number | null;
}

export interface NameServiceData {
  /** The product's name service cnlab built: its servers (node, address); absent: the scheme has none. */
  service?: { product: string; servers: Array<{ node: string; addr: string }> };
  lookups: Lookup[];
}

const ATTEMPTS = 3;

async function lookup(ctx: ProbeContext, from: { node: string; ns: string }, name: string, want: string): Promise<Lookup> {
  let r = { code: null as number | null, stdout: '' };
  // dnsmasq reads its hosts file just after it says it started: a first miss is retried.
  for (let i = 0; i < ATTEMPTS; i++) {
    if (i) await new Promise((res) => setTimeout(res, 300));
    r = await ctx.exec(from.node, 'ip', ['netns', 'exec', from.ns, 'getent', 'hosts', name]);
    if (r.code === 0) break;
  }
  const got = [...new Set(r.stdout.split('\n').flatMap((l) => (l.trim() ? [l.trim().split(/\s+/)[0]] : [])))];
  return { from: from.node, name, want, got, code: r.code };
}

async function startServers(ctx: ProbeContext, service: NameService, undo: Array<() => Promise<unknown>>) {
  const { lab, build } = ctx.up;
  const dir = join(lab.stateDir, 'dns');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'hosts');
  writeFileSync(file, hostsFile(service, build.workloads), { mode: 0o600 });
  const servers: Array<{ node: string; addr: string; host: number }> = [];
  for (const h of lab.hosts) {
    const s = service.server(lab, h);
    if (s.expose) {
      const added = await ctx.exec(s.node, 'ip', ['addr', 'add', s.expose.cidr, 'dev', s.expose.dev]);
      if (added.code !== 0) throw new NotRun(`could not add ${s.expose.cidr} to ${s.expose.dev} in ${s.node}: ${added.stderr.trim()}`);
      const { cidr, dev } = s.expose;
      undo.push(() => ctx.exec(s.node, 'ip', ['addr', 'del', cidr, 'dev', dev]));
    }
    const bg: Background = await ctx.background(s.node, 'dnsmasq', dnsmasqArgs(s.addr, file));
    undo.push(() => bg.stop());
    servers.push({ node: s.node, addr: s.addr, host: h.index });
  }
  ctx.standIn(service.standIn);
  return servers;
}

async function run(ctx: ProbeContext): Promise<NameServiceData> {
  const { a, b } = crossPair(ctx);
  const service = nameServiceOf(ctx.scheme.name);
  if (service && unmet([DNSMASQ], await detect({ binaries: ['dnsmasq'] })).length) throw new NotRun('needs dnsmasq-base');
  const { state, lab } = ctx.up;
  const undo: Array<() => Promise<unknown>> = [];
  try {
    const servers = service ? await startServers(ctx, service, undo) : [];
    for (const w of ctx.up.build.workloads) {
      const server = servers.find((s) => s.host === w.hostIndex)?.addr;
      undo.push(async () => removeNetnsEtc(state, w.ns));
      writeNetnsEtc(state, w.ns, {
        'resolv.conf': resolvConf(lab.name, service, server),
        'nsswitch.conf': 'hosts: files dns\n',
        hosts: `# cnlab lab ${lab.name}: no entries; names come from the name service, if any\n`,
      });
    }
    const lookups: Lookup[] = [];
    for (const name of service ? service.names(b.node) : [b.node]) lookups.push(await lookup(ctx, a, name, b.ip));
    return {
      ...(service ? { service: { product: service.product, servers: servers.map(({ node, addr }) => ({ node, addr })) } } : {}),
      lookups,
    };
  } finally {
    for (const u of undo.reverse()) await u();
  }
}

/** Pure: the lookups → dns (every name resolves to the peer), none (nothing resolves, no service), or what went wrong. */
export function judgeNameService(e: Evidence<NameServiceData>): Verdict {
  const { service, lookups } = e.data;
  if (!lookups.length) return { mark: 'not-run', text: 'not run: no lookup was made' };
  const names = (ls: Lookup[]) => ls.map((l) => l.name).join(', ');
  const right = lookups.filter((l) => l.got.includes(l.want));
  const wrong = lookups.filter((l) => l.got.length && !l.got.includes(l.want));
  const peer = lookups[0];
  if (wrong.length) {
    return {
      mark: 'no',
      key: 'wrong',
      text: `wrong answer: ${wrong.map((l) => `${l.name} → ${l.got.join(' ')}`).join(', ')} (not ${peer.want})`,
    };
  }
  if (right.length === lookups.length) {
    return {
      mark: 'yes',
      key: 'dns',
      text: `DNS: ${names(right)} → ${peer.want}`,
      detail: `${peer.from} resolved its peer through ${service ? `the ${service.product} name service at ${service.servers.map((s) => s.addr).join(', ')}` : 'its resolver'}`,
    };
  }
  if (right.length) {
    const failed = lookups.filter((l) => !right.includes(l));
    return { mark: 'value', key: 'dns-partial', text: `DNS: ${names(right)} resolve; ${names(failed)} do not` };
  }
  if (service) return { mark: 'no', key: 'broken', text: `${service.product} name service built, but ${names(lookups)} do not resolve` };
  return {
    mark: 'no',
    key: 'none',
    text: 'no name service',
    detail: `${peer.from} looked up ${names(lookups)}: not found (getent exit ${peer.code}); the scheme gives containers no DNS server`,
  };
}

export const nameService: Probe<NameServiceData> = {
  aspect: 'name-service',
  name: 'dns',
  title: 'Name service: a container resolves its peer by name',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  run,
  judge: judgeNameService,
};
