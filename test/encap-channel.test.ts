import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CIPHER, HEADER_LEN, MAX_RECORD, OVERHEAD, Sealer, TAG_LEN, VERSION } from '../src/encap/aead.js';
import { MAX_PENDING, Opener, PENDING_MS, type OpenFailure } from '../src/encap/opener.js';

/** The encrypted channel (pure): records sealed once, cut into fragments, put back together, opened. */

const key = randomBytes(32);
const DATAGRAM = 1472;

interface Wire {
  sealer: Sealer;
  /** Fragments sent, per record in order. */
  out: Buffer[];
}

function sealer(sender = 1, epoch = 1, record = MAX_RECORD, k = key): Wire {
  const out: Buffer[] = [];
  const sealer = new Sealer(k, sender, epoch, { peers: 2, datagram: DATAGRAM, record }, (_peer, parts) => out.push(Buffer.concat(parts)));
  return { sealer, out };
}

class Receiver {
  readonly drops: OpenFailure[] = [];
  readonly got: Buffer[] = [];
  now = 0;
  readonly opener: Opener;
  constructor(k = key) {
    this.opener = new Opener(
      k,
      DATAGRAM,
      (why) => this.drops.push(why),
      () => this.now,
    );
  }
  feed(...ds: Buffer[]): this {
    for (const d of ds) this.opener.open(d, (p) => this.got.push(Buffer.from(p)));
    return this;
  }
}

/** `n` sealed one-payload records. */
function singles(w: Wire, payload: Buffer, n = 1): Buffer[] {
  const start = w.out.length;
  for (let i = 0; i < n; i++) {
    w.sealer.add(0, [payload], payload.length);
    w.sealer.flush();
  }
  return w.out.slice(start);
}

const plain = Buffer.from('a packet with a MARKER inside');
const payloads = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i + 1));

describe('encrypted channel: records', () => {
  it('a lone payload is one datagram of payload + OVERHEAD bytes; nonces never repeat; no plaintext', () => {
    const w = sealer();
    const [a, b] = singles(w, plain, 2);
    expect(w.out.length).toBe(2);
    expect(a.length).toBe(plain.length + OVERHEAD);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.includes(Buffer.from('MARKER'))).toBe(false);
    expect(new Receiver().feed(a, b).got).toEqual([plain, plain]);
  });

  it('a burst becomes one record, padded to full-size fragments; delivered whole and in order, whatever the fragments’ order', () => {
    const w = sealer();
    const items = payloads(15, 1000);
    for (const p of items) w.sealer.add(0, [p], p.length);
    expect(w.out.length, 'nothing leaves before the record is sealed').toBe(0);
    w.sealer.flush();
    const frags = w.out;
    expect(frags.length).toBe(Math.ceil((15 * 1002 + TAG_LEN) / (DATAGRAM - HEADER_LEN)));
    for (const f of frags) expect(f.length).toBe(DATAGRAM);
    expect(w.sealer.stats).toEqual({
      records: 1,
      items: 15,
      padding: frags.length * (DATAGRAM - HEADER_LEN) - TAG_LEN - 15 * 1002,
      multiItem: 1,
      maxItems: 15,
    });
    const r = new Receiver().feed(...[...frags].reverse());
    expect(r.drops).toEqual([]);
    expect(r.got).toEqual(items);
    expect(r.opener.stats).toEqual({ records: 1, items: 15 });
  });

  it('a record is sealed when the next payload would overflow MAX_RECORD, and per peer', () => {
    const w = sealer();
    const items = payloads(100, 1400);
    for (const p of items) w.sealer.add(0, [p], p.length);
    w.sealer.add(1, [plain], plain.length);
    w.sealer.flush();
    const perRecord = Math.floor(MAX_RECORD / 1402);
    expect(w.sealer.stats).toMatchObject({ records: Math.ceil(100 / perRecord) + 1, items: 101 });
    expect(new Receiver().feed(...w.out).got).toEqual([...items, plain]);
  });

  it.each([0, 1, 2, 3, 700])('padding of %i byte(s) is read back as padding', (pad) => {
    // Three payloads whose record leaves exactly `pad` bytes in its last fragment.
    const frag = DATAGRAM - HEADER_LEN;
    const last = 2 * frag - TAG_LEN - pad - 3 * 2 - 2000;
    const w = sealer();
    const items = [Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(last, 3)];
    for (const p of items) w.sealer.add(0, [p], p.length);
    w.sealer.flush();
    expect(w.out.map((f) => f.length)).toEqual([DATAGRAM, DATAGRAM]);
    expect(w.sealer.stats.padding).toBe(pad);
    const r = new Receiver().feed(...w.out);
    expect(r.drops).toEqual([]);
    expect(r.got).toEqual(items);
  });

  it('a record of one fragment is not padded', () => {
    const w = sealer();
    for (const p of payloads(3, 100)) w.sealer.add(0, [p], p.length);
    w.sealer.flush();
    expect(w.out.map((f) => f.length)).toEqual([HEADER_LEN + 3 * 102 + TAG_LEN]);
  });

  it('record 0 seals every payload alone, at once', () => {
    const w = sealer(1, 1, 0);
    for (const p of payloads(3, 500)) w.sealer.add(0, [p], p.length);
    expect(w.out.length).toBe(3);
    expect(w.out.every((d) => d.length === 500 + OVERHEAD)).toBe(true);
  });

  it('refuses a payload larger than a datagram can carry alone', () => {
    const w = sealer();
    expect(w.sealer.maxItem).toBe(DATAGRAM - OVERHEAD);
    expect(() => w.sealer.add(0, [Buffer.alloc(DATAGRAM - OVERHEAD + 1)], DATAGRAM - OVERHEAD + 1)).toThrow(RangeError);
  });
});

describe('encrypted channel: what is refused', () => {
  it('a tampered byte anywhere (nonce, ciphertext, tag) fails authentication; so does another key', () => {
    const [d] = singles(sealer(), plain);
    for (const i of [2, 4, 9, 12, HEADER_LEN, HEADER_LEN + 5, d.length - 1]) {
      const t = Buffer.from(d);
      t[i] ^= 0x01;
      expect(new Receiver().feed(t).drops, `byte ${i}`).toEqual(['auth']);
    }
    expect(new Receiver(randomBytes(32)).feed(d).drops).toEqual(['auth']);
  });

  it('malformed headers are refused before any decryption', () => {
    const [d] = singles(sealer(), plain);
    const v = Buffer.from(d);
    v[0] = 9;
    const idx = Buffer.from(d);
    idx[13] = 1;
    const count0 = Buffer.from(d);
    count0[14] = 0;
    const r = new Receiver().feed(d.subarray(0, HEADER_LEN), v, idx, count0, Buffer.alloc(DATAGRAM + 1, 0x02));
    expect(r.drops).toEqual(['short', 'bad-version', 'bad-fragment', 'bad-fragment', 'bad-fragment']);
  });

  it('an authentic record whose payload lengths do not add up is refused whole', () => {
    const forge = (sender: number, plain: Buffer) => {
      const hdr = Buffer.alloc(HEADER_LEN);
      hdr[0] = VERSION;
      hdr.writeUInt16BE(sender, 1);
      hdr[14] = 1;
      const c = createCipheriv(CIPHER, key, hdr.subarray(1, 13), { authTagLength: TAG_LEN });
      const body = c.update(plain);
      c.final();
      return Buffer.concat([hdr, body, c.getAuthTag()]);
    };
    const r = new Receiver().feed(
      forge(1, Buffer.from([0, 5, 1, 2])), // a length beyond the record
      forge(2, Buffer.from([0, 0, 0])), // padding only
      forge(3, Buffer.from([0, 1, 7, 9])), // one byte after the last payload that is not zero padding
      forge(4, Buffer.from([0, 1, 7, 0])), // one byte of padding
    );
    expect(r.drops).toEqual(['bad-record', 'bad-record', 'bad-record']);
    expect(r.got).toEqual([Buffer.from([7])]);
  });

  it('a reordered fragment (index swapped) fails authentication', () => {
    const w = sealer();
    for (const p of payloads(4, 1400)) w.sealer.add(0, [p], p.length);
    w.sealer.flush();
    const [a, b, ...rest] = w.out.map((f) => Buffer.from(f));
    [a[13], b[13]] = [b[13], a[13]];
    expect(new Receiver().feed(a, b, ...rest).drops).toEqual(['auth']);
  });

  it('drops a replayed record and a duplicated fragment; a forged record does not move the window', () => {
    const w = sealer();
    const [first] = singles(w, plain);
    const r = new Receiver().feed(first, first);
    expect(r.drops).toEqual(['replay']);
    const [forged] = singles(w, plain).map((f) => Buffer.from(f));
    forged[forged.length - 1] ^= 1;
    r.feed(forged);
    expect(r.drops).toEqual(['replay', 'auth']);
    // The forged record's counter (1) was not recorded: its genuine twin is still accepted.
    const w2 = sealer();
    singles(w2, plain);
    r.feed(...singles(w2, plain));
    expect(r.got).toEqual([plain, plain]);

    for (const p of payloads(3, 1400)) w.sealer.add(0, [p], p.length);
    w.sealer.flush();
    const [f0, f1, ...rest] = w.out.slice(-3);
    expect(rest.length).toBe(1);
    r.feed(f0, f0, f1, ...rest, f1);
    expect(r.drops).toEqual(['replay', 'auth', 'replay', 'replay']);
    expect(r.got.length).toBe(5);
  });

  it('a restarted sender (new epoch) is accepted from counter 0; its old epoch is refused', () => {
    const r = new Receiver();
    const old = sealer(2, 1);
    const [oldRecord] = singles(old, plain);
    r.feed(...singles(old, plain));
    r.feed(...singles(sealer(2, 2), plain));
    r.feed(oldRecord);
    expect(r.drops).toEqual(['stale-epoch']);
    // Another sender has its own window.
    r.feed(...singles(sealer(3, 1), plain));
    expect(r.got.length).toBe(3);
  });

  it('a record missing a fragment is dropped as incomplete: after PENDING_MS, or when MAX_PENDING others wait', () => {
    const w = sealer();
    const r = new Receiver();
    const partial = () => {
      for (const p of payloads(2, 1400)) w.sealer.add(0, [p], p.length);
      w.sealer.flush();
      return w.out.at(-2)!;
    };
    r.feed(partial());
    r.now = PENDING_MS / 2;
    r.opener.expire();
    expect(r.drops).toEqual([]);
    r.now = PENDING_MS + 1;
    r.opener.expire();
    expect(r.drops).toEqual(['incomplete']);
    for (let i = 0; i <= MAX_PENDING; i++) r.feed(partial());
    expect(r.drops).toEqual(['incomplete', 'incomplete']);
    expect(r.got).toEqual([]);
  });
});
