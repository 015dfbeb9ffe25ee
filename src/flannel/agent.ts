import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd, type WatchEvent } from '../control/etcd.js';
import { formatTable, type Route } from '../encap/config.js';
import { writeTable } from '../encap/table-file.js';
import { parseCidr } from '../lab/ipv4.js';
import { BatchProcess } from './batch.js';
import {
  FLANNEL_PREFIX,
  leaseLines,
  leaseValue,
  parseLease,
  subnetEnv,
  subnetKey,
  subnetOfKey,
  type Backend,
  type LeaseValue,
} from './lease.js';

/**
 * cnlab's flannel agent: what flanneld does with etcd, for one host, inside the host's namespace.
 * It claims its host's subnet as an etcd lease (a TTL lease kept alive, the key written only if
 * absent), writes subnet.env, then follows the subnets prefix: every peer's lease is programmed
 * into the kernel as its backend needs (host-gw: a route; vxlan: neighbour, FDB entry, route) and
 * removed when the lease goes (udp: written into the encapsulation daemon's table file, which the
 * daemon reloads). When etcd is unreachable it keeps what it programmed and retries.
 */

export interface AgentConfig {
  etcd: string;
  publicIp: string;
  subnet: string;
  network: string;
  backend: Backend;
  /** VXLAN device (vxlan) or underlay port (host-gw) the routes use. */
  dev: string;
  vni: number;
  vtepMac?: string;
  /** udp: the encapsulation daemon's peer table file, rewritten on every change of the leases. */
  table?: string;
  mtu: number;
  ttl: number;
  dir: string;
}

export function parseAgentArgs(argv: string[]): AgentConfig {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      etcd: { type: 'string' },
      'public-ip': { type: 'string' },
      subnet: { type: 'string' },
      network: { type: 'string' },
      backend: { type: 'string' },
      dev: { type: 'string' },
      vni: { type: 'string' },
      'vtep-mac': { type: 'string' },
      table: { type: 'string' },
      mtu: { type: 'string' },
      ttl: { type: 'string' },
      dir: { type: 'string' },
    },
    strict: true,
  });
  const need = (k: keyof typeof v): string => {
    const x = v[k];
    if (typeof x !== 'string' || !x) throw new Error(`--${k} is required`);
    return x;
  };
  const backend = need('backend');
  if (backend !== 'vxlan' && backend !== 'host-gw' && backend !== 'udp')
    throw new Error(`--backend must be vxlan, host-gw or udp, got ${backend}`);
  if (backend === 'vxlan' && !v['vtep-mac']) throw new Error('--vtep-mac is required with --backend vxlan');
  if (backend === 'udp' && !v.table?.startsWith('/')) throw new Error('--table (an absolute path) is required with --backend udp');
  return {
    etcd: need('etcd'),
    publicIp: need('public-ip'),
    subnet: need('subnet'),
    network: need('network'),
    backend,
    dev: need('dev'),
    vni: Number(v.vni ?? 1),
    vtepMac: v['vtep-mac'],
    ...(backend === 'udp' ? { table: v.table } : {}),
    mtu: Number(need('mtu')),
    ttl: Number(v.ttl ?? 30),
    dir: need('dir'),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FlannelAgent {
  private readonly etcd: Etcd;
  /** Peer subnet → the lease programmed for it. */
  private readonly programmed = new Map<string, LeaseValue>();
  private leaseId = '';
  private stopping = new AbortController();
  private readonly ip: BatchProcess;
  private readonly bridge: BatchProcess;

  constructor(
    readonly cfg: AgentConfig,
    private readonly log: (line: string) => void,
  ) {
    this.etcd = new Etcd(cfg.etcd);
    this.ip = new BatchProcess('ip', log);
    this.bridge = new BatchProcess('bridge', log);
  }

  get key(): string {
    return subnetKey(this.cfg.subnet);
  }

  private value(): string {
    return JSON.stringify(
      leaseValue(this.cfg.publicIp, this.cfg.backend, this.cfg.vtepMac ? { vni: this.cfg.vni, mac: this.cfg.vtepMac } : undefined),
    );
  }

  /** Claims the subnet: a fresh lease and a create-if-absent write (retried while etcd is not up). */
  async acquire(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.leaseId = await this.etcd.grant(this.cfg.ttl);
        if (await this.etcd.createIfAbsent(this.key, this.value(), this.leaseId)) {
          this.log(`lease ${this.key} acquired (etcd lease ${this.leaseId}, TTL ${this.cfg.ttl} s)`);
          return;
        }
        const held = await this.etcd.get(this.key);
        // Our own earlier lease (a restarted agent): flanneld takes it over.
        if (held && parseLease(held.value)?.PublicIP === this.cfg.publicIp) {
          await this.etcd.put(this.key, this.value(), this.leaseId);
          this.log(`lease ${this.key} renewed after a restart (etcd lease ${this.leaseId})`);
          return;
        }
        throw new Error(`subnet ${this.cfg.subnet} is already leased: ${held?.value ?? '?'}`);
      } catch (e) {
        if ((e as Error).message.startsWith('subnet ')) throw e;
        if (attempt % 20 === 0) this.log(`waiting for etcd: ${(e as Error).message}`);
        await sleep(100);
      }
    }
  }

  /**
   * Hands the lines to the long-lived batch processes: each applies its lines in order; between
   * the two there is no order (a route may briefly precede its FDB entry: the packet is dropped,
   * as it was while the lease was unknown).
   */
  private apply(lines: { ip: string[]; bridge: string[] }): void {
    this.bridge.send(lines.bridge);
    this.ip.send(lines.ip);
  }

  /** Programs the difference between what the kernel has and these leases (key → value text). */
  private async reconcile(leases: Map<string, string>): Promise<void> {
    const add = { ip: [] as string[], bridge: [] as string[] };
    const del = { ip: [] as string[], bridge: [] as string[] };
    const dev = { dev: this.cfg.dev };
    const wanted = new Map<string, LeaseValue>();
    for (const [key, text] of leases) {
      const subnet = subnetOfKey(key);
      const lease = parseLease(text);
      if (!subnet || !lease || subnet === this.cfg.subnet || lease.BackendType !== this.cfg.backend) continue;
      wanted.set(subnet, lease);
    }
    for (const [subnet, lease] of this.programmed) {
      const w = wanted.get(subnet);
      if (!w || JSON.stringify(w) !== JSON.stringify(lease)) {
        const l = leaseLines('del', subnet, lease, dev);
        del.ip.push(...l.ip);
        del.bridge.push(...l.bridge);
        this.programmed.delete(subnet);
      }
    }
    for (const [subnet, lease] of wanted) {
      if (this.programmed.has(subnet)) continue;
      const l = leaseLines('add', subnet, lease, dev);
      add.ip.push(...l.ip);
      add.bridge.push(...l.bridge);
      this.programmed.set(subnet, lease);
    }
    this.apply(del);
    this.apply(add);
    if (del.ip.length || add.ip.length) this.log(`programming ${wanted.size} peer subnet(s)`);
    if (this.cfg.table) this.writeTable(wanted);
  }

  /** udp: the daemon's peer table, rewritten when it changes (the daemon reloads it). */
  private tableText: string | null = null;
  private writeTable(wanted: Map<string, LeaseValue>): void {
    const routes: Route[] = [];
    for (const [subnet, lease] of wanted) {
      const block = parseCidr(subnet);
      if (block) routes.push({ block, peer: lease.PublicIP });
    }
    const text = formatTable(routes);
    if (text === this.tableText) return;
    writeTable(this.cfg.table!, routes);
    this.tableText = text;
    this.log(`peer table: ${routes.length} peer subnet(s) for the encapsulation daemon`);
  }

  /** The current leases under the prefix, and the revision to watch from. */
  private async snapshot(): Promise<{ leases: Map<string, string>; revision: number }> {
    const { kvs, revision } = await this.etcd.rangePrefix(`${FLANNEL_PREFIX}/subnets/`);
    return { leases: new Map(kvs.map((k) => [k.key, k.value])), revision };
  }

  /**
   * Events update the leases at once; one reconcile runs at a time, and events that arrive during it
   * are programmed together by the next one (at a cold start of 50 hosts, 49 leases arrive one by
   * one: programming each alone cost two process spawns per event per host, ~5,000 in all).
   */
  private coalescer(leases: Map<string, string>): (events: WatchEvent[]) => void {
    let running = false;
    let pending = false;
    const run = async () => {
      if (running) {
        pending = true;
        return;
      }
      running = true;
      try {
        do {
          pending = false;
          await this.reconcile(leases);
        } while (pending);
      } catch (e) {
        this.log(`programming: ${(e as Error).message}`);
      } finally {
        running = false;
      }
    };
    return (events) => {
      for (const e of events) {
        if (e.type === 'PUT') leases.set(e.kv.key, e.kv.value);
        else leases.delete(e.kv.key);
      }
      void run();
    };
  }

  /** Follows the prefix for ever: snapshot, reconcile, watch; after a failure, again. */
  private async follow(ready: () => void): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const { leases, revision } = await this.snapshot();
        await this.reconcile(leases);
        ready();
        await this.etcd.watchPrefix(`${FLANNEL_PREFIX}/subnets/`, revision + 1, this.coalescer(leases), this.stopping.signal);
      } catch (e) {
        this.log(`etcd: ${(e as Error).message}; keeping ${this.programmed.size} programmed peer(s), retrying`);
        await sleep(500);
      }
    }
  }

  /** Renews the lease every third of its TTL; an expired lease is claimed again. */
  private async keepAlive(): Promise<void> {
    const every = Math.max(1, this.cfg.ttl / 3) * 1000;
    while (!this.stopping.signal.aborted) {
      await sleep(every);
      if (this.stopping.signal.aborted) return;
      try {
        const ttl = await this.etcd.keepAlive(this.leaseId);
        if (ttl <= 0) {
          this.log('lease expired: claiming the subnet again');
          await this.acquire();
        }
      } catch (e) {
        this.log(`lease renewal failed: ${(e as Error).message}`);
      }
    }
  }

  async run(): Promise<void> {
    await this.acquire();
    writeFileSync(join(this.cfg.dir, 'subnet.env'), subnetEnv(this.cfg.network, this.cfg.subnet, this.cfg.mtu));
    let readyOnce = false;
    const ready = () => {
      if (readyOnce) return;
      readyOnce = true;
      writeFileSync(join(this.cfg.dir, 'ready'), `${process.pid}\n`);
      this.log(`ready: ${this.cfg.subnet} on ${this.cfg.publicIp}, backend ${this.cfg.backend}`);
    };
    void this.keepAlive();
    await this.follow(ready);
  }

  stop(): void {
    this.stopping.abort();
    this.ip.close();
    this.bridge.close();
  }
}
