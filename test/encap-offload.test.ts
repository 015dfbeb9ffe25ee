import { describe, expect, it } from 'vitest';
import { fold, sum16 } from '../src/encap/csum.js';
import { Coalescer, VNET_HDR_LEN } from '../src/encap/gro.js';
import { SendRuns } from '../src/encap/runs.js';
import { splitOffloaded } from '../src/encap/tso.js';

/** The daemon's batching of system calls: TSO cutting, GRO coalescing, checksums, sendmsg runs. */

const ETH = Buffer.from('020000000201020000000101' + '0800', 'hex');
const TS_OPTION = Buffer.from('0101080a0000000100000002', 'hex'); // NOP NOP timestamps

interface Seg {
  seq: number;
  flags?: number;
  payload: Buffer;
  id?: number;
  src?: string;
  proto?: number;
}

const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));

/** An IPv4 TCP (or UDP) packet with correct checksums, optionally behind an Ethernet header. */
function packet(s: Seg, l2 = Buffer.alloc(0)): Buffer {
  const proto = s.proto ?? 6;
  const l4 = proto === 6 ? Buffer.concat([Buffer.alloc(20), TS_OPTION]) : Buffer.alloc(8);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length + s.payload.length, 2);
  ip.writeUInt16BE(s.id ?? 7, 4);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 64;
  ip[9] = proto;
  ip4(s.src ?? '198.19.1.2').copy(ip, 12);
  ip4('198.19.2.2').copy(ip, 16);
  ip.writeUInt16BE(~fold(sum16(ip, 0, 20)) & 0xffff, 10);
  l4.writeUInt16BE(40000, 0);
  l4.writeUInt16BE(5201, 2);
  if (proto === 6) {
    l4.writeUInt32BE(s.seq >>> 0, 4);
    l4.writeUInt32BE(99, 8);
    l4[12] = (l4.length / 4) << 4;
    l4[13] = s.flags ?? 0x10;
    l4.writeUInt16BE(512, 14);
  } else l4.writeUInt16BE(8 + s.payload.length, 4);
  const pseudo = sum16(ip, 12, 20) + proto + l4.length + s.payload.length;
  const csum = ~fold(pseudo + sum16(l4, 0, l4.length) + sum16(s.payload, 0, s.payload.length)) & 0xffff;
  l4.writeUInt16BE(csum, proto === 6 ? 16 : 6);
  return Buffer.concat([l2, ip, l4, s.payload]);
}

/** True when the packet's IP and TCP/UDP checksums verify. */
function checksumsOk(p: Buffer, l2 = 0): boolean {
  const ipOk = fold(sum16(p, l2, l2 + 20)) === 0xffff;
  const total = p.readUInt16BE(l2 + 2);
  const l4Len = total - 20;
  const pseudo = sum16(p, l2 + 12, l2 + 20) + p[l2 + 9] + l4Len;
  return ipOk && fold(pseudo + sum16(p, l2 + 20, l2 + total)) === 0xffff;
}

function payloadOf(p: Buffer, l2 = 0): Buffer {
  const tcp = l2 + 20;
  return p.subarray(tcp + (p[tcp + 12] >> 4) * 4);
}

const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));

/** What the kernel hands over with TSO: a virtio-net header, then one TCP super-packet. */
function superPacket(payload: Buffer, gsoSize: number, flags: number, l2 = Buffer.alloc(0)): Buffer {
  const p = packet({ seq: 1000, payload, flags, id: 300 }, l2);
  const vnet = Buffer.alloc(VNET_HDR_LEN);
  vnet[0] = 1; // NEEDS_CSUM
  vnet[1] = 1; // TCPV4
  vnet.writeUInt16LE(l2.length + 52, 2);
  vnet.writeUInt16LE(gsoSize, 4);
  vnet.writeUInt16LE(l2.length + 20, 6);
  vnet.writeUInt16LE(16, 8);
  return Buffer.concat([Buffer.alloc(3), vnet, p]); // at an odd offset, as in a read buffer
}

describe.each([
  ['IP packets (tun)', Buffer.alloc(0)],
  ['Ethernet frames (tap)', ETH],
])('offloads on %s', (_name, l2) => {
  const L2 = l2.length;

  it('TSO: a super-packet is cut into gso_size segments with their own headers and checksums', () => {
    const payload = bytes(3500);
    const b = superPacket(payload, 1000, 0x18, l2);
    const got: Buffer[] = [];
    expect(splitOffloaded(b, 3, b.length - 3, L2, (parts, len) => got.push(Buffer.concat(parts, len)))).toBeNull();
    expect(got.map((p) => payloadOf(p, L2).length)).toEqual([1000, 1000, 1000, 500]);
    got.forEach((p, i) => {
      expect(checksumsOk(p, L2), `segment ${i}`).toBe(true);
      expect(p.readUInt32BE(L2 + 24)).toBe(1000 + i * 1000); // seq
      expect(p.readUInt16BE(L2 + 4)).toBe(300 + i); // IP id
      expect(p[L2 + 33] & 0x08, 'PSH only on the last').toBe(i === 3 ? 0x08 : 0);
      expect(p.subarray(0, L2)).toEqual(l2);
    });
    expect(Buffer.concat(got.map((p) => payloadOf(p, L2)))).toEqual(payload);
  });

  it('a checksum left partial is completed; a plain packet passes as it is', () => {
    const udp = packet({ seq: 0, payload: bytes(333), proto: 17 }, l2);
    const partial = Buffer.from(udp);
    partial.writeUInt16BE(0x1234, L2 + 26);
    const vnet = Buffer.alloc(VNET_HDR_LEN);
    vnet[0] = 1;
    vnet.writeUInt16LE(L2 + 20, 6);
    vnet.writeUInt16LE(6, 8);
    // The kernel leaves the pseudo-header sum in the field.
    const pseudo = fold(sum16(udp, L2 + 12, L2 + 20) + 17 + 8 + 333);
    partial.writeUInt16BE(pseudo, L2 + 26);
    const got: Buffer[] = [];
    splitOffloaded(Buffer.concat([vnet, partial]), 0, VNET_HDR_LEN + partial.length, L2, (parts) => got.push(Buffer.concat(parts)));
    expect(got).toEqual([udp]);
    expect(splitOffloaded(Buffer.concat([Buffer.alloc(VNET_HDR_LEN), udp]), 0, VNET_HDR_LEN + udp.length, L2, () => {})).toBeNull();
    const bad = Buffer.concat([Buffer.from([0, 4, 0, 0, 0, 0, 0, 0, 0, 0]), udp]);
    expect(splitOffloaded(bad, 0, bad.length, L2, () => {})).toBe('bad-offload');
  });

  it('GRO: consecutive segments become one GSO write; it undoes TSO', () => {
    const payload = bytes(3500, 9);
    const b = superPacket(payload, 1000, 0x18, l2);
    const segs: Buffer[] = [];
    splitOffloaded(b, 3, b.length - 3, L2, (parts, len) => segs.push(Buffer.concat(parts, len)));
    const writes: Buffer[][] = [];
    const c = new Coalescer(L2, (parts) => writes.push(parts));
    segs.forEach((s) => c.push(s));
    c.flush();
    expect(writes.length).toBe(1);
    const [head, ...payloads] = writes[0];
    expect(head[0]).toBe(1); // NEEDS_CSUM
    expect(head[1]).toBe(1); // TCPV4
    expect(head.readUInt16LE(2)).toBe(L2 + 52); // hdr_len
    expect(head.readUInt16LE(4)).toBe(1000); // gso_size
    expect(head.readUInt16LE(6)).toBe(L2 + 20); // csum_start
    const merged = Buffer.concat([head.subarray(VNET_HDR_LEN), ...payloads]);
    expect(merged.readUInt16BE(L2 + 2)).toBe(20 + 32 + 3500);
    expect(fold(sum16(merged, L2, L2 + 20))).toBe(0xffff);
    expect(merged[L2 + 33] & 0x08).toBe(0x08);
    expect(payloadOf(merged, L2)).toEqual(payload);
    // Checksum partial: completing it over the segment gives a valid packet.
    const done = Buffer.from(merged);
    const tcpLen = 32 + 3500;
    done.writeUInt16BE(~fold(sum16(done, L2 + 20, L2 + 20 + tcpLen)) & 0xffff, L2 + 36);
    expect(checksumsOk(done, L2)).toBe(true);
    expect(c.stats).toEqual({ writes: 1, merged: 1, mergedSegments: 4 });
  });

  it('GRO keeps order and writes alone what cannot join: a gap, another flow, a UDP packet', () => {
    const writes: Buffer[][] = [];
    const c = new Coalescer(L2, (parts) => writes.push(parts));
    const p = (seq: number, n = 100, src?: string) => packet({ seq, payload: bytes(n), src }, l2);
    c.push(p(0));
    c.push(p(100));
    c.push(p(300)); // gap
    c.push(p(400, 100, '198.19.1.3')); // another flow
    c.push(packet({ seq: 0, payload: bytes(10), proto: 17 }, l2));
    c.push(p(500));
    c.push(p(600, 50)); // short: closes the run
    c.push(p(650));
    c.flush();
    const segments = writes.map((w) => (w[0][1] === 1 ? w.length - 1 : 1));
    expect(segments).toEqual([2, 1, 1, 1, 2, 1]);
    expect(writes.filter((w) => w[0][1] === 0).every((w) => w[0].equals(Buffer.alloc(VNET_HDR_LEN)))).toBe(true);
  });
  it('encrypted channel: TCP checksums are left to the receiving kernel, which gets every TCP packet as partial', () => {
    const payload = bytes(2500, 5);
    const b = superPacket(payload, 1000, 0x18, l2);
    const segs: Buffer[] = [];
    expect(splitOffloaded(b, 3, b.length - 3, L2, (parts, len) => segs.push(Buffer.concat(parts, len)), false)).toBeNull();
    expect(segs.map((p) => p.readUInt16BE(L2 + 36))).toEqual([0, 0, 0]);
    expect(
      segs.every((p) => fold(sum16(p, L2, L2 + 20)) === 0xffff),
      'IP header checksums are still computed',
    ).toBe(true);
    // A TCP packet the kernel left partial stays so; UDP is still completed.
    const tcp = packet({ seq: 0, payload: bytes(200) }, l2);
    tcp.writeUInt16BE(0x4321, L2 + 36);
    const vnet = Buffer.from([1, 0, 0, 0, 0, 0, L2 + 20, 0, 16, 0]);
    const kept: Buffer[] = [];
    splitOffloaded(Buffer.concat([vnet, tcp]), 0, VNET_HDR_LEN + tcp.length, L2, (parts) => kept.push(Buffer.concat(parts)), false);
    expect(kept[0].readUInt16BE(L2 + 36)).toBe(0x4321);

    const writes: Buffer[][] = [];
    const c = new Coalescer(L2, (parts) => writes.push(parts), true);
    c.push(segs[0]); // a run of one: written as partial
    c.flush();
    c.push(Buffer.from(segs[1]));
    c.push(Buffer.from(segs[2]));
    c.flush();
    const udp = packet({ seq: 0, payload: bytes(10), proto: 17 }, l2);
    c.push(udp); // not TCP: as it came
    c.flush();
    expect(writes.map((w) => [w[0][0], w[0][1]])).toEqual([
      [1, 0],
      [1, 1],
      [0, 0],
    ]);
    const [single] = writes;
    expect(single[0].readUInt16LE(6)).toBe(L2 + 20); // csum_start
    expect(single[0].readUInt16LE(8)).toBe(16); // csum_offset
    // What the kernel does with a partial checksum gives a valid packet.
    const done = Buffer.concat(single.slice(1));
    done.writeUInt16BE(~fold(sum16(done, L2 + 20, done.length)) & 0xffff, L2 + 36);
    expect(checksumsOk(done, L2)).toBe(true);
    expect(payloadOf(done, L2)).toEqual(payload.subarray(0, 1000));
    expect(writes[2][1]).toEqual(udp);
  });
});

describe('checksum sums', () => {
  it('sum16 equals a plain sum of big-endian 16-bit words, at any offset and length', () => {
    const b = bytes(3000, 77);
    const naive = (start: number, end: number) => {
      let s = 0;
      for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
      return fold(s);
    };
    for (const [start, len] of [
      [0, 0],
      [0, 1],
      [1, 2],
      [3, 15],
      [5, 16],
      [7, 17],
      [2, 1448],
      [1, 1449],
      [0, 2999],
    ]) {
      expect(fold(sum16(b, start, start + len)), `${start}+${len}`).toBe(naive(start, start + len));
    }
  });
});

describe('sendmsg runs', () => {
  const d = (n: number) => [Buffer.alloc(n)];

  it('groups equal-sized datagrams to one peer; a shorter one closes the run', () => {
    const calls: Array<[number, number, number]> = [];
    const sent: Buffer[] = [];
    const results: Array<[number, number, string | null]> = [];
    const r = new SendRuns(
      (peer, buf, off, bytes, seg) => {
        calls.push([peer, bytes, seg]);
        sent.push(Buffer.from(buf.subarray(off, off + bytes)));
        return peer === 9 ? -11 : bytes;
      },
      (count, bytes, error) => results.push([count, bytes, error]),
    );
    r.add(0, [Buffer.alloc(60, 1), Buffer.alloc(40, 2)], 100);
    r.add(0, d(100), 100);
    r.add(0, d(40), 40); // closes
    r.add(0, d(100), 100);
    r.add(1, d(100), 100); // another peer
    r.add(1, d(200), 200); // larger than the run's size
    r.flush();
    r.add(9, d(10), 10);
    r.flush();
    r.flush();
    expect(calls).toEqual([
      [0, 240, 100],
      [0, 100, 0],
      [1, 100, 0],
      [1, 200, 0],
      [9, 10, 0],
    ]);
    expect(results.at(-1)).toEqual([1, 10, 'send-eagain']);
    // The datagrams lie end to end, their pieces in order.
    expect(sent[0]).toEqual(Buffer.concat([Buffer.alloc(60, 1), Buffer.alloc(40, 2), Buffer.alloc(140)]));
  });

  it('at most 64 datagrams per sendmsg', () => {
    const counts: number[] = [];
    const r = new SendRuns(
      () => 0,
      (count) => counts.push(count),
    );
    for (let i = 0; i < 100; i++) r.add(0, d(100), 100);
    r.flush();
    expect(counts).toEqual([64, 36]);
  });

  it("the products' pattern: one datagram per send, no segment size", () => {
    const calls: Array<[number, number]> = [];
    const r = new SendRuns(
      (_p, _b, _o, bytes, seg) => (calls.push([bytes, seg]), bytes),
      () => {},
      1,
    );
    for (let i = 0; i < 3; i++) r.add(0, d(100), 100);
    r.flush();
    expect(calls).toEqual([
      [100, 0],
      [100, 0],
      [100, 0],
    ]);
  });
});
