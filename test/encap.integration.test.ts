import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipArgs } from './helpers/argv.js';
import { runNamespaceSteps } from '../src/apply/run-steps.js';
import { processStartTime, trackProcess, untrackProcess } from '../src/apply/state.js';
import { stopProcesses } from '../src/apply/teardown.js';
import { unsupportedReason, type UpLab } from '../src/apply/up.js';
import { HEADER_LEN, TAG_LEN } from '../src/encap/aead.js';
import { FRAME_HEADER } from '../src/encap/batch.js';
import { labEncapCounters } from '../src/measure/encap-counters.js';
import { encapHostDir, type EncapCounters } from '../src/encap/counters.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { renderPlan } from '../src/plan/render.js';
import type { Step } from '../src/plan/types.js';
import { runClient } from '../src/runners/iperf3.js';
import { flannelUdp, flannelUdpBatched, flannelUdpBatchedEncrypted } from '../src/schemes/flannel-udp.js';
import { SERVICE_PORT } from '../src/lab/ports.js';
import type { Scheme, Workload } from '../src/plan/scheme.js';
import { weaveSleeve, weaveSleeveEncrypted, weaveSleeveScheme } from '../src/schemes/weave-sleeve.js';
import { cli, dfPing, isRoot, labNamespaces, pidGone, sh, useLab } from './helpers/lab.js';
import { udpPayloads } from './encap-pcap.js';

/**
 * cnlab's encapsulation daemon, for real, under each of its four schemes: TCP and UDP across
 * hosts, the path MTU, a peer whose daemon starts while the other is already sending, counters via
 * `cnlab exec`; with encryption, what an underlay capture shows, and tampered and replayed
 * datagrams. Lab names: enc<scheme initials>.
 */

const CASES: Array<[string, Scheme, number]> = [
  // The defaults move packets as the products do: one per system call.
  ['encfu', flannelUdp, 8285],
  // cnlab's batched daemon (device offloads, sendmsg runs, recvmmsg), better than flanneld.
  ['encfub', flannelUdpBatched, 8285],
  ['encfue', flannelUdpBatchedEncrypted, 8285],
  ['encws', weaveSleeve, 6783],
  // Batched, with batches flushed by a timer instead of when the device is drained.
  ['encwst', weaveSleeveScheme({ encrypt: false, batch: true, offload: true, flushUs: 300 }), 6783],
  ['encwse', weaveSleeveEncrypted, 6783],
  // Every frame sealed alone: the bench's comparison for records.
  ['encwseu', weaveSleeveScheme({ encrypt: true, batch: false }), 6783],
];
// "CNLAB-MARK-0042!": ping repeats it through its payload.
const MARKER = Buffer.from('CNLAB-MARK-0042!');
const unsupported = isRoot ? await unsupportedReason(flannelUdp) : 'not root';

async function counters(up: UpLab, host: string): Promise<EncapCounters> {
  const all = await labEncapCounters(up.state.stateDir, up.state.processes);
  const c = all?.[host];
  if (!c) throw new Error(`no counters for ${host}`);
  return c;
}

const drops = (c: EncapCounters, reason: string) => c.drops[reason] ?? 0;

/** A ping that may take a few tries (a MAC to learn, a peer just started): true when any reply came. */
async function pingSome(ns: string, target: string, count = 5): Promise<boolean> {
  return (await sh('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', target])).code === 0;
}

async function icmpUnreachables(ns: string): Promise<number> {
  const lines = (await sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Icmp: '));
  const keys = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[keys.indexOf('InDestUnreachs')]);
}

/** One datagram from a namespace (a node one-liner, so no extra tool is needed). */
async function sendUdp(ns: string, payload: Buffer, ip: string, port: number): Promise<void> {
  const js =
    "const d=require('dgram').createSocket('udp4');d.send(Buffer.from(process.argv[1],'hex'),+process.argv[3],process.argv[2],(e)=>{d.close();process.exit(e?1:0)})";
  const r = await sh('ip', ['netns', 'exec', ns, process.execPath, '-e', js, payload.toString('hex'), ip, String(port)]);
  expect(r.code, r.stderr).toBe(0);
}

/** tcpdump on a host's underlay port while `traffic` runs; the capture's bytes. */
async function capture(ns: string, port: number, dir: string, traffic: () => Promise<unknown>): Promise<Buffer> {
  const file = join(dir, `${ns}.pcap`);
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, 'tcpdump', '-i', 'eth0', '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', file, 'udp', 'port', String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) resolve();
    });
    void exited.then(() => reject(new Error(`tcpdump exited: ${err}`)));
  });
  try {
    await traffic();
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  return readFileSync(file);
}

describe.each(CASES)('encapsulation daemon: lab %s', (lab, scheme, port) => {
  if (unsupported) {
    it.skip(`${scheme.name} is ${unsupported}`, () => {});
    return;
  }
  const encrypted = scheme.name.includes('-encrypted');
  const perPacket = !scheme.name.includes('-batched');
  let up: UpLab;
  let from: Workload;
  let to: Workload;
  let scratch: string;
  // An iperf3 server in `to` for the whole suite; stopped before teardown (in afterAll, or below).
  const built = useLab(lab, scheme, {
    afterUp: async (u) => {
      up = u;
      from = built.first(1);
      to = built.first(2);
      await built.startServer(to);
    },
  });

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), `cnlab-${lab}-`));
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('TCP and UDP cross hosts through the daemons, which count them', async () => {
    const tcp = await runClient({ ns: from.ns, target: to.ip, port: SERVICE_PORT, seconds: 1, protocol: 'tcp' });
    expect(tcp.result, JSON.stringify(tcp.result)).toMatchObject({ ok: true });
    // TCP alone shows batching: paced UDP arrives one datagram at a time, and on a loaded machine
    // its reads would outweigh TCP's super-packets in the totals.
    const [t1, t2] = [await counters(up, 'h1'), await counters(up, 'h2')];
    const udp = await runClient({ ns: from.ns, target: to.ip, port: SERVICE_PORT, seconds: 1, protocol: 'udp', udpRate: '50M' });
    expect(udp.result, JSON.stringify(udp.result)).toMatchObject({ ok: true });
    if (udp.result.ok) {
      expect(udp.result.packets).toBeGreaterThan(1000);
      expect(udp.result.lostPercent ?? 100).toBeLessThan(50);
    }
    const [h1, h2] = [await counters(up, 'h1'), await counters(up, 'h2')];
    expect(h1.tx.packets).toBeGreaterThan(1000);
    expect(h2.rx.packets).toBeGreaterThan(1000);
    // What the wire adds: a length per frame in a sleeve batch; encrypted, a header per fragment,
    // a tag per record, a length per payload (packet or frame) in it, and padding.
    const sealed = { records: 0, items: 0, padding: 0, ...h1.records?.sealed };
    const channel = encrypted ? h1.tx.datagrams * HEADER_LEN + sealed.records * TAG_LEN + sealed.items * FRAME_HEADER + sealed.padding : 0;
    expect(h1.tx.datagramBytes - h1.tx.bytes).toBe(encrypted ? channel : scheme.name.startsWith('weave') ? 2 * h1.tx.packets : 0);
    if (encrypted) {
      expect(h2.records?.opened.records).toBeGreaterThan(0);
      // TCP bursts travel as records of many payloads, each record sealed and opened once.
      if (!scheme.name.includes('-unbatched')) expect(sealed.records).toBeLessThan(sealed.items / 4);
      else expect(sealed.records).toBe(sealed.items);
    }
    expect(h2.encrypted).toBe(encrypted);
    // Batched, system calls carry many packets: TCP super-packets read whole (TSO), sendmsg runs
    // (UDP_SEGMENT), recvmmsg, coalesced writes (GRO); by default, as the products, one per call.
    if (perPacket) {
      expect(h1.io.deviceReads).toBeGreaterThanOrEqual(h1.tx.packets);
      expect(h1.io.udpSends).toBe(h1.tx.datagrams);
      // Sleeve daemons also hear their peers' heartbeats (relay.ts), which are not data.
      expect(h2.io.udpMessages).toBe(h2.rx.datagrams + (h2.relay?.heartbeats ?? 0));
      // A frame flooded before the TAP is up fails its write (counted as a drop).
      expect(h2.io.deviceWrites + drops(h2, 'device-write')).toBe(h2.rx.packets);
    } else {
      expect(t1.tx.packets).toBeGreaterThan(100);
      expect(t1.io.deviceReads).toBeLessThan(t1.tx.packets / 4);
      expect(t1.io.udpSends).toBeLessThan(t1.tx.datagrams / 4);
      expect(t2.io.deviceWrites).toBeLessThan(t2.rx.packets / 4);
    }
    if (scheme.name.startsWith('weave') && !scheme.name.includes('-unbatched')) {
      // TCP's ACKs come back in batches.
      expect(h2.batches.multiFrame).toBeGreaterThan(0);
      expect(h2.tx.datagrams).toBeLessThan(h2.tx.packets);
    }
  });

  it('path MTU: a DF ping of mtu-28 bytes passes, one byte more does not', async () => {
    const payload = up.build.mtu - 28;
    expect(await dfPing(from.ns, to.ip, payload), `DF ping ${payload}`).toBe(true);
    expect(await dfPing(from.ns, to.ip, payload + 1), `DF ping ${payload + 1}`).toBe(false);
  });

  it('counters are readable with cnlab exec', async () => {
    const file = join(encapHostDir(labStateDir(lab), 'h1'), 'counters.json');
    const r = await cli(['exec', lab, 'h1', '--', 'cat', file]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as EncapCounters;
    expect(c.format).toBe('cnlab-encap-counters');
    expect(c.tx.packets).toBeGreaterThan(0);
  });

  it('a peer started late: the sender survives port-unreachables and traffic flows once the peer is up', async () => {
    const h2 = up.lab.hosts[1];
    const steps = up.plan.stages.flatMap((s) => s.steps);
    const daemon = steps.find((s): s is Extract<Step, { kind: 'daemon' }> => s.kind === 'daemon' && s.ns === h2.ns)!;
    const dev = daemon.argv[daemon.argv.indexOf('--dev') + 1];
    const after = steps.slice(steps.indexOf(daemon) + 1).filter((s) => s.ns === h2.ns && ipArgs(s)?.includes(dev));
    const sender = up.state.processes.find((p) => p.role === 'encap-h1')!;
    const peer = up.state.processes.find((p) => p.role === 'encap-h2')!;
    await stopProcesses([peer]);
    untrackProcess(up.state, peer.pid);
    rmSync(daemon.readyFile!, { force: true });

    const unreachBefore = await icmpUnreachables(up.lab.hosts[0].ns);
    expect(await pingSome(from.ns, to.ip, 3), 'no peer daemon: no reply').toBe(false);
    expect(await icmpUnreachables(up.lab.hosts[0].ns)).toBeGreaterThan(unreachBefore);
    expect(processStartTime(sender.pid), 'the sending daemon is still running').toBe(sender.startTime);

    await runNamespaceSteps(h2.ns, [daemon, ...after], {
      onCni: () => {},
      onSpawn: (pid, step) => trackProcess(up.state, pid, step.ns, step.name, step.argv),
    });
    expect(await pingSome(from.ns, to.ip), 'replies once the peer daemon is up').toBe(true);
    expect(processStartTime(sender.pid)).toBe(sender.startTime);
    if (encrypted) expect((await counters(up, 'h2')).epoch).toBe(2);
  });

  if (!encrypted) {
    it('without encryption the underlay carries the payload in clear (the capture works)', async () => {
      const pcap = await capture(up.lab.hosts[0].ns, port, scratch, () =>
        pingSome(from.ns, to.ip, 2).then(() =>
          sh('ip', ['netns', 'exec', from.ns, 'ping', '-c', '2', '-i', '0.2', '-s', '200', '-p', MARKER.toString('hex'), to.ip]),
        ),
      );
      expect(udpPayloads(pcap, port).length).toBeGreaterThan(0);
      expect(pcap.includes(MARKER)).toBe(true);
    });
  } else {
    it('encrypted: the key is 0600 in the lab state only; a capture shows no marker; tampered and replayed datagrams are dropped and counted', async () => {
      const keyFile = join(labStateDir(lab), 'encap', 'key');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      expect(renderPlan(up.plan)).not.toContain(key);
      for (const h of ['h1', 'h2']) expect(readFileSync(join(encapHostDir(labStateDir(lab), h), 'daemon.log'), 'utf8')).not.toContain(key);

      const ping = () =>
        sh('ip', ['netns', 'exec', from.ns, 'ping', '-c', '3', '-i', '0.2', '-s', '200', '-p', MARKER.toString('hex'), to.ip]);
      // Resolve the path first (as the plaintext case does): the marker pings alone must be captured.
      expect(await pingSome(from.ns, to.ip, 2), 'the path answers before the capture').toBe(true);
      const pcap = await capture(up.lab.hosts[0].ns, port, scratch, ping);
      const sent = udpPayloads(pcap, port).filter((d) => d.src === up.lab.hosts[0].underlayIp && d.payload.length > 200);
      expect(sent.length, 'the marker pings crossed the underlay').toBeGreaterThanOrEqual(3);
      expect(pcap.includes(MARKER)).toBe(false);
      expect(pcap.includes(MARKER.subarray(0, 8))).toBe(false);

      const genuine = sent[0].payload;
      const before = await counters(up, 'h2');
      // A forged datagram: a fresh, far-ahead counter in the header and one flipped ciphertext bit.
      const tampered = Buffer.from(genuine);
      tampered[5] = 0x00;
      tampered[6] = 0x7f;
      tampered[40] ^= 0x20;
      await sendUdp(up.lab.hosts[0].ns, tampered, up.lab.hosts[1].underlayIp, port);
      await sendUdp(up.lab.hosts[0].ns, genuine, up.lab.hosts[1].underlayIp, port);
      const after = await counters(up, 'h2');
      expect(drops(after, 'auth') - drops(before, 'auth'), 'tampered: auth failure').toBe(1);
      expect(drops(after, 'replay') - drops(before, 'replay'), 'replayed: dropped').toBe(1);
      if (scheme.name.startsWith('flannel')) expect(after.rx.packets).toBe(before.rx.packets);
      // The forged counter did not move the replay window: genuine traffic still passes.
      expect(await pingSome(from.ns, to.ip, 2)).toBe(true);
    });
  }

  it('teardown stops the daemons and removes the namespaces, the key and the state', async () => {
    const pids = up.state.processes.filter((p) => p.role.startsWith('encap-')).map((p) => p.pid);
    expect(pids.length).toBe(2);
    await built.stopServers();
    const report = await built.remove();
    expect(report?.problems).toEqual([]);
    for (const pid of pids) expect(pidGone(pid), `daemon ${pid}`).toBe(true);
    expect(labNamespaces(lab)).toEqual([]);
    expect(existsSync(labStateFile(lab))).toBe(false);
    expect(existsSync(labStateDir(lab))).toBe(false);
  });
});
