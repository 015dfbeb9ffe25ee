import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_RECORD } from '../src/encap/aead.js';
import { Batch, FRAME_HEADER, eachFrame, validFrames } from '../src/encap/batch.js';
import { daemonArgs, formatTable, parseDaemonArgs, parseTable, type DaemonConfig } from '../src/encap/config.js';
import { generateKeyFile, nextEpoch, readKeyFile } from '../src/encap/keys.js';
import { ReplayWindow } from '../src/encap/replay.js';
import { MacTable, RouteTable, isGroupMac, macAt } from '../src/encap/tables.js';
import { InputError } from '../src/errors.js';
import { ipToInt } from '../src/lab/ipv4.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import { flannelUdp, flannelUdpBatched, flannelUdpBatchedEncrypted, flannelUdpEncrypted } from '../src/schemes/flannel-udp.js';
import { SCHEMES, encryptedVariant } from '../src/schemes/registry.js';
import {
  weaveSleeve,
  weaveSleeveBatched,
  weaveSleeveBatchedEncrypted,
  weaveSleeveEncrypted,
  weaveSleeveScheme,
} from '../src/schemes/weave-sleeve.js';

/** The encapsulation daemon's pure parts: replay window, framing, tables, argv; the schemes' plans (the channel: encap-channel.test.ts). */

describe('replay window', () => {
  it('accepts each counter once, out of order within the window, never too old', () => {
    const w = new ReplayWindow(64);
    expect([0, 1, 2].map((c) => w.accept(c))).toEqual([true, true, true]);
    expect(w.accept(1)).toBe(false);
    expect(w.accept(10)).toBe(true);
    expect(w.accept(5)).toBe(true); // late but inside the window
    expect(w.accept(5)).toBe(false);
    expect(w.accept(200)).toBe(true);
    expect(w.test(200 - 64)).toBe(false); // fell out of the window
    expect(w.test(200 - 63)).toBe(true);
    expect(w.accept(199)).toBe(true);
    expect(w.accept(200)).toBe(false);
  });

  it('a jump clears the bits it passes over (a counter seen long ago is fresh again only inside the window)', () => {
    const w = new ReplayWindow(64);
    for (let c = 0; c < 64; c++) w.accept(c);
    expect(w.accept(100)).toBe(true);
    expect(w.accept(70)).toBe(true); // never seen; its slot was used by counter 6 and cleared
    expect(w.accept(6)).toBe(false); // too old
  });

  it('test() does not record', () => {
    const w = new ReplayWindow(64);
    expect(w.test(3)).toBe(true);
    expect(w.test(3)).toBe(true);
    expect(w.accept(3)).toBe(true);
    expect(w.test(3)).toBe(false);
  });
});

describe('sleeve framing', () => {
  const frame = (n: number, fill: number) => Buffer.alloc(n, fill);

  it('batches frames up to the datagram size, each with its length', () => {
    const b = new Batch(100, Number.MAX_SAFE_INTEGER);
    expect(b.fits(40)).toBe(true);
    b.add([frame(30, 1), frame(10, 1)], 40);
    b.add([frame(30, 2)], 30);
    expect(b.fits(30)).toBe(false); // 42 + 32 + 32 > 100
    expect(b.frames).toBe(2);
    const d = b.take();
    expect(d.length).toBe(40 + 30 + 2 * FRAME_HEADER);
    expect(b.empty).toBe(true);
    expect(validFrames(d)).toBe(true);
    const got: number[][] = [];
    eachFrame(d, (off, len) => got.push([len, d[off]]));
    expect(got).toEqual([
      [40, 1],
      [30, 2],
    ]);
    expect(b.tooBig(99)).toBe(true);
  });

  it('one frame per datagram when batching is off', () => {
    const b = new Batch(1000, 1);
    b.add([frame(20, 1)], 20);
    expect(b.fits(20)).toBe(false);
  });

  it('refuses malformed datagrams', () => {
    const b = new Batch(100, 10);
    b.add([frame(20, 1)], 20);
    const d = b.take();
    expect(validFrames(d.subarray(0, d.length - 1))).toBe(false);
    expect(validFrames(Buffer.concat([d, Buffer.from([0])]))).toBe(false);
    expect(validFrames(Buffer.from([0, 5, 1, 2, 3, 4, 5]))).toBe(false); // shorter than an Ethernet header
    expect(validFrames(Buffer.alloc(0))).toBe(false);
  });
});

describe('tables', () => {
  it('routes a destination to the peer owning the longest matching block', () => {
    const peers = ['198.18.0.2', '198.18.0.3'];
    const t = new RouteTable(
      [
        { block: { network: '198.19.2.0', prefix: 24 }, peer: peers[0] },
        { block: { network: '198.19.3.0', prefix: 24 }, peer: peers[1] },
        { block: { network: '198.19.3.128', prefix: 25 }, peer: peers[0] },
      ],
      (ip) => peers.indexOf(ip),
    );
    expect(t.lookup(ipToInt('198.19.2.9'))).toBe(0);
    expect(t.lookup(ipToInt('198.19.3.9'))).toBe(1);
    expect(t.lookup(ipToInt('198.19.3.200'))).toBe(0);
    expect(t.lookup(ipToInt('198.19.4.1'))).toBe(-1);
  });

  it('learns MACs per peer, moves them, and ages them out', () => {
    const m = new MacTable(1000);
    const f = Buffer.from('ffffffffffff0200000001020800', 'hex');
    expect(isGroupMac(f, 0)).toBe(true);
    expect(isGroupMac(f, 6)).toBe(false);
    const mac = macAt(f, 6);
    expect(m.lookup(mac, 0)).toBe(-1);
    m.learn(mac, 1, 0);
    expect(m.lookup(mac, 500)).toBe(1);
    m.learn(mac, 0, 600);
    expect(m.lookup(mac, 700)).toBe(0);
    expect(m.lookup(mac, 1700)).toBe(-1);
    expect(m.size).toBe(0);
  });
});

describe('daemon argv', () => {
  const cfg: DaemonConfig = {
    mode: 'tun',
    dev: 'flannel0',
    listen: { ip: '198.18.0.1', port: 8285 },
    routes: [{ block: { network: '198.19.2.0', prefix: 24 }, peer: '198.18.0.2' }],
    peers: [],
    maxDatagram: 1472,
    batch: false,
    flushUs: 0,
    offload: true,
    keyFile: '/run/cnlab/x/encap/key',
    record: 61440,
    sender: 1,
    stateDir: '/run/cnlab/x/encap/h1',
    readyFile: '/run/cnlab/x/encap/h1/ready',
  };

  it('round-trips', () => {
    expect(parseDaemonArgs(daemonArgs(cfg))).toEqual(cfg);
    const tap: DaemonConfig = {
      ...cfg,
      mode: 'tap',
      dev: 'vethwe-pcap',
      routes: [],
      peers: ['198.18.0.2', '198.18.0.3'],
      batch: true,
      flushUs: 200,
      offload: false,
      keyFile: undefined,
      record: 0,
    };
    expect(parseDaemonArgs(daemonArgs(tap))).toEqual(tap);
    const fromFile: DaemonConfig = { ...cfg, routes: [], table: '/run/cnlab/x/encap/h1/peers' };
    expect(parseDaemonArgs(daemonArgs(fromFile))).toEqual(fromFile);
    expect(() => parseDaemonArgs(daemonArgs({ ...tap, table: '/run/cnlab/x/peers' }))).toThrow(/--table is for tun mode/);
    expect(() => parseDaemonArgs(daemonArgs({ ...cfg, table: 'peers' }))).toThrow(/absolute path/);
  });

  it('a peer table file: sorted lines, parsed back; a bad line is refused by name', () => {
    const routes = [
      { block: { network: '198.19.3.0', prefix: 24 }, peer: '198.18.0.3' },
      { block: { network: '198.19.2.0', prefix: 24 }, peer: '198.18.0.2' },
    ];
    const text = formatTable(routes);
    expect(text).toBe('198.19.2.0/24=198.18.0.2\n198.19.3.0/24=198.18.0.3\n');
    expect(parseTable(`${text}\n`)).toEqual([routes[1], routes[0]]);
    expect(parseTable('')).toEqual([]);
    expect(() => parseTable('198.19.2.1/24=198.18.0.2')).toThrow(/table line/);
    expect(() => parseTable('198.19.2.0/24=nowhere')).toThrow(/not an IPv4 address/);
  });

  it.each([
    [['--mode', 'tunnel'], /--mode/],
    [['--dev', 'a name'], /--dev/],
    [['--listen', '198.18.0.1'], /--listen/],
    [['--listen', '198.18.0.999:8285'], /not an IPv4/],
    [['--route', '198.19.2.1/24=198.18.0.2'], /--route/],
    [['--peer', '198.18.0.2'], /tap mode/],
    [['--sender', '0'], /--sender/],
    [['--key', 'relative/key'], /absolute/],
    [['--record', '61441'], /--record/],
    [['--bogus', '1'], /Unknown option/],
  ])('refuses %j with one clear line', (extra, why) => {
    const argv = [...daemonArgs(cfg), ...extra];
    expect(() => parseDaemonArgs(argv)).toThrow(InputError);
    expect(() => parseDaemonArgs(argv)).toThrow(why);
  });
});

describe('keys and epochs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnlab-encap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a key file is 32 random bytes in hex, mode 0600, never overwritten', () => {
    const file = join(dir, 'sub', 'key');
    generateKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readKeyFile(file).length).toBe(32);
    const before = readFileSync(file, 'utf8');
    expect(() => generateKeyFile(file)).toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('each start takes the next epoch', () => {
    const file = join(dir, 'epoch');
    expect([nextEpoch(file), nextEpoch(file), nextEpoch(file)]).toEqual([1, 2, 3]);
  });
});

describe('schemes: plans', () => {
  const lab = resolveLab(loadTopology({ lab: 'encplan' }));

  it.each([
    [flannelUdp, 1472],
    [flannelUdpEncrypted, 1500 - 28 - 33],
    [weaveSleeve, 1500 - 28 - 2 - 14],
    [weaveSleeveEncrypted, 1500 - 28 - 33 - 14],
  ])('%s: MTU, one daemon per host with its table, marked as userspace', (scheme, mtu) => {
    const { plan, build } = planLab(lab, scheme);
    expect(build.mtu).toBe(mtu);
    expect(scheme.notes).toContain('userspace encapsulation (cnlab daemon)');
    const daemons = plan.stages.flatMap((s) => s.steps).filter((s) => s.kind === 'daemon' && s.name.startsWith('encap-'));
    expect(daemons.map((d) => d.ns)).toEqual(lab.hosts.map((h) => h.ns));
    const argv1 = daemons[0].kind === 'daemon' ? daemons[0].argv : [];
    // flannel: its table is the file cnlab's flannel agent writes from etcd (flannel-etcd.test.ts).
    if (scheme.name.startsWith('flannel')) expect(argv1.join(' ')).toContain(`--table ${lab.stateDir}/encap/h1/peers`);
    else expect(argv1.join(' ')).toContain('--peer 198.18.0.2');
    expect(argv1.includes('--key')).toBe(scheme.name.endsWith('-encrypted'));
    if (argv1.includes('--key')) expect(argv1[argv1.indexOf('--record') + 1]).toBe(String(MAX_RECORD));
  });

  it('unbatched encrypted sleeve seals every datagram alone, and says so', () => {
    const s = weaveSleeveScheme({ encrypt: true, batch: false });
    const daemon = planLab(lab, s)
      .plan.stages.flatMap((st) => st.steps)
      .find((st) => st.kind === 'daemon');
    const argv = daemon?.kind === 'daemon' ? daemon.argv : [];
    expect(argv[argv.indexOf('--record') + 1]).toBe('0');
    expect(s.notes.join(' ')).toContain('every datagram alone');
    expect(weaveSleeveEncrypted.notes.join(' ')).toContain('records of up to 60 KiB');
  });

  it('the encrypted plan generates the key at up time and shows only its path', () => {
    const text = renderPlan(planLab(lab, flannelUdpEncrypted).plan);
    expect(text).toContain(`genkey ${lab.stateDir}/encap/key`);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });

  it.each([
    [flannelUdp, flannelUdpBatched],
    [flannelUdpEncrypted, flannelUdpBatchedEncrypted],
    [weaveSleeve, weaveSleeveBatched],
    [weaveSleeveEncrypted, weaveSleeveBatchedEncrypted],
  ])("%s moves packets as its product does; its -batched variant is cnlab's, named better than the product", (product, batched) => {
    const argv = (s: typeof product) => {
      const d = planLab(lab, s)
        .plan.stages.flatMap((st) => st.steps)
        .find((st) => st.kind === 'daemon');
      return d?.kind === 'daemon' ? d.argv : [];
    };
    expect(argv(product)).toContain('--no-offload');
    expect(product.notes.join(' ')).toContain("the product's syscall pattern");
    expect(batched.name).toBe(product.name.replace(/^(flannel-udp|weave-sleeve)/, '$1-batched'));
    expect(argv(batched)).not.toContain('--no-offload');
    expect(batched.notes.join(' ')).toContain('better than the product');
    expect(batched.summary).toContain('better than the product');
    expect(planLab(lab, batched).build.mtu).toBe(planLab(lab, product).build.mtu);
    expect(SCHEMES).toContain(batched);
    if (!product.name.endsWith('-encrypted')) {
      expect(encryptedVariant(product).name).toBe(`${product.name}-encrypted`);
      expect(encryptedVariant(batched).name).toBe(`${batched.name}-encrypted`);
    }
  });

  it('weave-sleeve can be built without batching, for the benchmark only', () => {
    const s = weaveSleeveScheme({ encrypt: false, batch: false });
    const text = renderPlan(planLab(lab, s).plan);
    expect(s.name).toBe('weave-sleeve-unbatched');
    expect(text).toContain('--no-batch');
  });
});
