import { createDecipheriv } from 'node:crypto';
import { CIPHER, HEADER_LEN, TAG_LEN, VERSION } from './aead.js';
import { FRAME_HEADER } from './batch.js';
import { ReplayWindow } from './replay.js';

/**
 * The encrypted channel, receiver side (the format is in aead.ts): fragments are put back together
 * per record, a complete record is authenticated and decrypted once, and its datagram payloads are
 * handed on. A receiver keeps, per sender, the newest epoch it authenticated and a sliding replay
 * window over that epoch's record counters; older epochs are refused, and a record counts as seen
 * only once it authenticated, so forged fragments cannot move the window.
 *
 * Partial records wait at most MAX_PENDING at a time and PENDING_MS long; past either they are
 * dropped as 'incomplete' (a lost fragment loses its record, as a lost IP fragment loses its
 * datagram).
 */

/** Why a datagram or record was refused: each is a drop reason in the counters. */
export type OpenFailure = 'short' | 'bad-version' | 'bad-fragment' | 'replay' | 'stale-epoch' | 'auth' | 'bad-record' | 'incomplete';

const TWO32 = 2 ** 32;
export const MAX_PENDING = 32;
export const PENDING_MS = 1000;
/** Reassembly buffers kept for reuse (a new one per record costs more than the copy into it). */
const SPARE_BUFFERS = 4;

/** True when `plain` is length-prefixed payloads (at least one), then maybe zero padding. */
function validRecord(plain: Buffer): boolean {
  let off = 0;
  let n = 0;
  while (off + FRAME_HEADER <= plain.length) {
    const len = plain.readUInt16BE(off);
    if (len === 0) break;
    off += FRAME_HEADER + len;
    n++;
  }
  return n > 0 && off <= plain.length && (off + FRAME_HEADER <= plain.length || off === plain.length || plain[off] === 0);
}

/** Calls `item(off, len)` for each payload of a record validRecord() accepted. */
function eachItem(plain: Buffer, item: (off: number, len: number) => void): void {
  let off = 0;
  while (off + FRAME_HEADER <= plain.length) {
    const len = plain.readUInt16BE(off);
    if (len === 0) return;
    item(off + FRAME_HEADER, len);
    off += FRAME_HEADER + len;
  }
}

interface PeerState {
  epoch: number;
  window: ReplayWindow;
}

interface Partial {
  key: string;
  sender: number;
  epoch: number;
  counter: number;
  nonce: Buffer;
  buf: Buffer;
  got: Uint8Array;
  missing: number;
  /** Ciphertext + tag bytes, known once the last fragment came. */
  total: number;
  born: number;
}

export class Opener {
  private readonly peers = new Map<number, PeerState>();
  private readonly partial = new Map<string, Partial>();
  private readonly spare: Buffer[] = [];
  /** The record the previous fragment belonged to: its fragments usually come one after another. */
  private last: Partial | undefined;
  /** Ciphertext bytes per full fragment. */
  private readonly frag: number;
  readonly stats = { records: 0, items: 0 };

  constructor(
    private readonly key: Buffer,
    datagram: number,
    private readonly drop: (why: OpenFailure) => void,
    private readonly clock: () => number = Date.now,
  ) {
    this.frag = datagram - HEADER_LEN;
  }

  /** One datagram from the wire; every payload of a record it completes goes to `deliver`. */
  open(d: Buffer, deliver: (payload: Buffer) => void): void {
    if (d.length <= HEADER_LEN) return this.drop('short');
    if (d[0] !== VERSION) return this.drop('bad-version');
    const index = d[13];
    const count = d[14];
    const size = d.length - HEADER_LEN;
    if (index >= count || size > this.frag || (index < count - 1 && size !== this.frag)) return this.drop('bad-fragment');
    const sender = d.readUInt16BE(1);
    const epoch = d.readUInt16BE(3);
    const counter = d.readUInt32BE(5) * TWO32 + d.readUInt32BE(9);
    const peer = this.peers.get(sender);
    if (peer) {
      if (epoch < peer.epoch) return this.drop('stale-epoch');
      if (epoch === peer.epoch && !peer.window.test(counter)) return this.drop('replay');
    }
    if (count === 1) return this.record(sender, epoch, counter, d.subarray(1, 13), d.subarray(HEADER_LEN), deliver);
    const l = this.last;
    let p = l && l.counter === counter && l.sender === sender && l.epoch === epoch ? l : undefined;
    if (!p) {
      const key = `${sender}/${epoch}/${counter}`;
      p = this.partial.get(key);
      if (!p) {
        if (this.partial.size >= MAX_PENDING) this.evict(this.partial.keys().next().value as string);
        p = {
          key,
          sender,
          epoch,
          counter,
          nonce: Buffer.from(d.subarray(1, 13)),
          buf: this.buffer(count * this.frag),
          got: new Uint8Array(count),
          missing: count,
          total: 0,
          born: this.clock(),
        };
        this.partial.set(key, p);
      }
      this.last = p;
    }
    if (p.got.length !== count) return this.drop('bad-fragment');
    if (p.got[index]) return this.drop('replay');
    p.got[index] = 1;
    p.missing--;
    d.copy(p.buf, index * this.frag, HEADER_LEN);
    if (index === count - 1) p.total = index * this.frag + size;
    if (p.missing > 0) return;
    this.forget(p);
    this.record(sender, epoch, counter, p.nonce, p.buf.subarray(0, p.total), deliver);
    this.release(p.buf);
  }

  private buffer(size: number): Buffer {
    const b = this.spare.pop();
    return b && b.length >= size ? b : Buffer.allocUnsafeSlow(Math.max(size, 16 * this.frag));
  }

  private release(b: Buffer): void {
    if (this.spare.length < SPARE_BUFFERS) this.spare.push(b);
  }

  /** Drop partial records older than PENDING_MS. */
  expire(): void {
    const limit = this.clock() - PENDING_MS;
    for (const [key, p] of this.partial) if (p.born < limit) this.evict(key);
  }

  private evict(key: string): void {
    const p = this.partial.get(key)!;
    this.forget(p);
    this.release(p.buf);
    this.drop('incomplete');
  }

  private forget(p: Partial): void {
    this.partial.delete(p.key);
    if (this.last === p) this.last = undefined;
  }

  private record(sender: number, epoch: number, counter: number, nonce: Buffer, sealed: Buffer, deliver: (payload: Buffer) => void): void {
    if (sealed.length < TAG_LEN + FRAME_HEADER + 1) return this.drop('short');
    const decipher = createDecipheriv(CIPHER, this.key, nonce, { authTagLength: TAG_LEN });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
    let plain: Buffer;
    try {
      plain = decipher.update(sealed.subarray(0, sealed.length - TAG_LEN));
      decipher.final();
    } catch {
      return this.drop('auth');
    }
    let peer = this.peers.get(sender);
    if (peer && epoch < peer.epoch) return this.drop('stale-epoch');
    if (!peer || epoch > peer.epoch) {
      peer = { epoch, window: new ReplayWindow() };
      this.peers.set(sender, peer);
    }
    // test() passed before the fragments were gathered, but another copy may have completed since.
    if (!peer.window.accept(counter)) return this.drop('replay');
    if (!validRecord(plain)) return this.drop('bad-record');
    this.stats.records++;
    eachItem(plain, (off, len) => {
      this.stats.items++;
      deliver(plain.subarray(off, off + len));
    });
  }
}
