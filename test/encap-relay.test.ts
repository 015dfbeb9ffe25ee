import { describe, expect, it } from 'vitest';
import { ipToInt } from '../src/lab/ipv4.js';
import {
  DEAD_MS,
  MAX_HOPS,
  Mesh,
  RELAY_HEADER,
  Relayer,
  decodeControl,
  encodeHeartbeat,
  isControl,
  relayHeader,
} from '../src/encap/relay.js';

/** The relay decision (relay.ts) on three hosts, h1 h2 h3, seen from h1 (peers: h2 = 0, h3 = 1). */
const [H1, H2, H3] = ['198.18.0.1', '198.18.0.2', '198.18.0.3'].map(ipToInt);

describe('sleeve control datagrams', () => {
  it('a heartbeat round-trips; it is never taken for a sleeve batch or a sealed fragment', () => {
    const hb = encodeHeartbeat([H2, H3], [H2]);
    expect(isControl(hb)).toBe(true);
    expect(decodeControl(hb)).toEqual({ type: 'heartbeat', heard: [H2, H3], reach: [H2] });
    // A sleeve batch starts with a frame length (≥ 14); a sealed fragment with version 2.
    expect(isControl(Buffer.from([0x00, 0x0e, 1, 2, 3]))).toBe(false);
    expect(isControl(Buffer.from([2, 0, 0, 0, 0]))).toBe(false);
  });

  it('a relay header carries hops, destination and original sender before the datagram', () => {
    const inner = Buffer.from([0x00, 0x0e, ...new Array(14).fill(7)]);
    const d = Buffer.concat([relayHeader(3, H3, H1), inner]);
    expect(RELAY_HEADER).toBe(13);
    expect(decodeControl(d)).toEqual({ type: 'relay', hops: 3, dst: H3, src: H1, inner });
  });

  it('refuses other versions and malformed messages', () => {
    const hb = encodeHeartbeat([H2], []);
    expect(decodeControl(Buffer.from([0, 0, 9, 1, 0, 0]))).toEqual({ type: 'bad', why: 'control-version' });
    expect(decodeControl(hb.subarray(0, hb.length - 1))).toMatchObject({ type: 'bad', why: 'bad-control' });
    expect(decodeControl(Buffer.concat([hb, Buffer.from([0])]))).toMatchObject({ type: 'bad', why: 'bad-control' });
    expect(decodeControl(relayHeader(3, H3, H1))).toMatchObject({ type: 'bad', why: 'bad-control' });
    expect(decodeControl(Buffer.from([0, 0, 1, 7, 0]))).toMatchObject({ type: 'bad', why: 'bad-control' });
  });
});

describe('Mesh: the route to each peer', () => {
  it('tries every peer directly while nothing is known', () => {
    const m = new Mesh(H1, [H2, H3]);
    expect([m.nextHop(0), m.nextHop(1)]).toEqual([0, 1]);
  });

  it('relays to h3 through h2 once h3 stops naming me and h2 reaches h3; back to direct when h3 returns', () => {
    const m = new Mesh(H1, [H2, H3]);
    m.heartbeat(0, [H1, H3], [H1, H3], 0);
    m.heartbeat(1, [H1, H2], [H1, H2], 0);
    expect(m.nextHop(1)).toBe(1);
    // h1↔h3 cut: h3's heartbeats stop; h2's keep coming and still name h3 as reached.
    m.heartbeat(0, [H1, H3], [H1, H3], 1000);
    m.update(DEAD_MS);
    expect(m.nextHop(1)).toBe(1);
    m.heartbeat(0, [H1, H3], [H1, H3], DEAD_MS + 1);
    expect(m.nextHop(1)).toBe(0);
    expect(m.relayed()).toEqual({ '198.18.0.3': '198.18.0.2' });
    expect(m.view(DEAD_MS + 1)).toEqual({ heard: [H2], reach: [H2] });
    // h3 hears me again.
    m.heartbeat(1, [H1, H2], [H2], DEAD_MS + 500);
    expect(m.nextHop(1)).toBe(1);
    expect(m.relayed()).toEqual({});
  });

  it('a peer that hears me only one way is not reached: its heartbeat must name me', () => {
    const m = new Mesh(H1, [H2, H3]);
    m.heartbeat(0, [H1, H3], [H1, H3], 0);
    m.heartbeat(1, [H2], [H2], 0);
    expect(m.reaches(1, 0)).toBe(false);
    expect(m.nextHop(1)).toBe(0);
  });

  it('without a relay that reaches it, a lost peer is still tried directly', () => {
    const m = new Mesh(H1, [H2, H3]);
    m.heartbeat(0, [H1], [H1], 0);
    m.heartbeat(1, [H1], [H1], 0);
    m.heartbeat(0, [H1], [H1], 2 * DEAD_MS);
    expect(m.nextHop(1)).toBe(1);
  });
});

describe('Relayer', () => {
  function relayer(self: number, peers: number[], clock: { now: number }) {
    const sent: Array<{ peer: number; d: Buffer }> = [];
    const delivered: Array<{ peer: number; d: Buffer }> = [];
    const drops: string[] = [];
    const r = new Relayer(
      self,
      peers,
      {
        send: (peer, parts, len) => {
          const d = Buffer.concat(parts);
          expect(d.length).toBe(len);
          sent.push({ peer, d });
        },
        deliver: (d, peer) => delivered.push({ peer, d: Buffer.from(d) }),
        drop: (why) => drops.push(why),
      },
      () => clock.now,
    );
    return { r, sent, delivered, drops };
  }
  const frame = Buffer.from([0x00, 0x0e, ...new Array(14).fill(0xab)]);

  it('h1 → h2 → h3 end to end: wrapped at h1, passed on by h2, delivered at h3 as from h1', () => {
    const clock = { now: 0 };
    const h1 = relayer(H1, [H2, H3], clock);
    const h2 = relayer(H2, [H1, H3], clock);
    const h3 = relayer(H3, [H1, H2], clock);
    // h2's heartbeat says it hears and reaches h1 and h3; h3 says nothing of h1 (the cut).
    h1.r.control(encodeHeartbeat([H1, H3], [H1, H3]), 0);
    h1.r.control(encodeHeartbeat([H2], [H2]), 1);
    expect(h1.r.divert(1, [frame], frame.length)).toBe(true);
    expect(h1.r.divert(0, [frame], frame.length)).toBe(false);
    const out = h1.sent.at(-1)!;
    expect(out.peer).toBe(0);
    expect(decodeControl(out.d)).toMatchObject({ type: 'relay', hops: MAX_HOPS, dst: H3, src: H1 });
    // At h2 (from h1 = its peer 0), h3 is reached directly (nothing known: tried directly).
    h2.r.control(out.d, 0);
    const passed = h2.sent.at(-1)!;
    expect(passed.peer).toBe(1);
    expect(decodeControl(passed.d)).toMatchObject({ type: 'relay', hops: MAX_HOPS - 1, dst: H3, src: H1 });
    expect(h2.r.stats).toMatchObject({ forwarded: 1, arrived: 0 });
    expect(h2.delivered).toEqual([]);
    // At h3 (from h2 = its peer 1): delivered as from h1 (its peer 0), so MACs are learnt behind h1.
    h3.r.control(passed.d, 1);
    expect(h3.delivered).toEqual([{ peer: 0, d: frame }]);
    expect(h1.r.stats.sentVia).toBe(1);
  });

  it('tick sends every peer a heartbeat with my view and publishes the relayed routes', () => {
    const clock = { now: 0 };
    const h1 = relayer(H1, [H2, H3], clock);
    h1.r.control(encodeHeartbeat([H1, H3], [H1, H3]), 0);
    h1.r.control(encodeHeartbeat([H2], [H2]), 1);
    h1.r.tick();
    expect(h1.sent.map((s) => s.peer)).toEqual([0, 1]);
    expect(decodeControl(h1.sent[0].d)).toEqual({ type: 'heartbeat', heard: [H2, H3], reach: [H2] });
    expect(h1.r.stats.via).toEqual({ '198.18.0.3': '198.18.0.2' });
  });

  it('drops what it cannot use: unknown senders, exhausted hops, unknown destinations, nested control', () => {
    const clock = { now: 0 };
    const h2 = relayer(H2, [H1, H3], clock);
    h2.r.control(encodeHeartbeat([], []), -1);
    h2.r.control(Buffer.concat([relayHeader(1, H3, H1), frame]), 0);
    h2.r.control(Buffer.concat([relayHeader(3, ipToInt('198.18.0.9'), H1), frame]), 0);
    h2.r.control(Buffer.concat([relayHeader(3, H2, H1), encodeHeartbeat([], [])]), 0);
    expect(h2.drops).toEqual(['unknown-peer', 'relay-hops', 'relay-unknown-peer', 'bad-control']);
    expect(h2.sent).toEqual([]);
  });
});
