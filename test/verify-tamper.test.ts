import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../src/encap/aead.js';
import { Opener, type OpenFailure } from '../src/encap/opener.js';
import { encryption } from '../src/verify/probes/encryption.js';
import { counterView, tamperedCopy, type TamperData } from '../src/verify/tamper.js';

/** Probe 2's tamper test: the altered copy fails authentication; the judge needs the drop counted and nothing delivered. */

// Evidence captured by the encryption probe on weave-sleeve-encrypted and flannel-udp-encrypted on this box.
const EV = JSON.parse(readFileSync(new URL('./fixtures/verify/evidence.json', import.meta.url), 'utf8')) as Record<
  string,
  Record<string, never>
>;
type Data = { tamper: TamperData } & Record<string, unknown>;
const judgeWith = (scheme: string, tamper?: Partial<TamperData>) => {
  const data = EV[scheme].encryption as Data;
  return encryption.judge({ commands: [], data: (tamper ? { ...data, tamper: { ...data.tamper, ...tamper } } : data) as never });
};

describe('tampered sealed datagram', () => {
  it('the altered copy of a record the receiver already opened is refused as an authentication failure, not a replay', () => {
    const key = randomBytes(32);
    const out: Buffer[] = [];
    const sealer = new Sealer(key, 1, 1, { peers: 2, datagram: 1472, record: 0 }, (_p, parts) => out.push(Buffer.concat(parts)));
    const payload = Buffer.from('a packet with a MARKER inside');
    sealer.add(0, [payload], payload.length);
    sealer.flush();
    const drops: OpenFailure[] = [];
    const got: Buffer[] = [];
    const opener = new Opener(key, 1472, (why) => drops.push(why));
    opener.open(out[0], (p) => got.push(Buffer.from(p)));
    const { bytes, flipped } = tamperedCopy(out[0]);
    expect(flipped).toHaveLength(2);
    expect(bytes.equals(out[0])).toBe(false);
    opener.open(bytes, (p) => got.push(Buffer.from(p)));
    expect(drops).toEqual(['auth']);
    expect(got).toEqual([payload]);
    // The unaltered copy again is a replay: that is why the counter is moved.
    opener.open(out[0], (p) => got.push(Buffer.from(p)));
    expect(drops).toEqual(['auth', 'replay']);
  });

  it("reads the receiver's counters file", () => {
    const file = JSON.stringify({ format: 'cnlab-encap-counters', drops: { auth: 2 }, rx: { packets: 7 } });
    expect(counterView(file)).toEqual({ auth: 2, replay: 0, rxPackets: 7 });
    expect(counterView('not json')).toBeUndefined();
  });
});

describe('encryption judge with the tamper test (captured evidence)', () => {
  it('both encrypted variants: no marker, and the tampered datagram dropped', () => {
    for (const s of ['weave-sleeve-encrypted', 'flannel-udp-encrypted']) {
      const v = judgeWith(s);
      expect(v, s).toMatchObject({ mark: 'yes', key: 'encrypted' });
      expect(v.detail).toMatch(/auth failures \+1, nothing delivered/);
    }
  });

  it('says which part failed: delivered, or not counted, or not completed', () => {
    expect(judgeWith('weave-sleeve-encrypted', { delivered: true })).toMatchObject({
      mark: 'no',
      key: 'unauthenticated',
      text: expect.stringContaining('DELIVERED'),
    });
    const before = { auth: 1, replay: 0, rxPackets: 20 };
    expect(judgeWith('weave-sleeve-encrypted', { before, after: { ...before, replay: 1 } })).toMatchObject({
      mark: 'no',
      text: expect.stringContaining('not counted as an authentication failure'),
    });
    expect(judgeWith('flannel-udp-encrypted', { after: undefined }).mark).toBe('not-run');
    expect(judgeWith('flannel-udp-encrypted', { error: 'no encapsulation daemon tracked on h2' }).text).toContain(
      'no encapsulation daemon',
    );
  });

  it('plaintext: the marker alone decides, no tamper test', () => {
    expect(encryption.judge({ commands: [], data: EV.calico.encryption })).toMatchObject({ mark: 'no', key: 'plaintext' });
  });
});
