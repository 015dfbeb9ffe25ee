import { createCipheriv } from 'node:crypto';
import { Batch, FRAME_HEADER } from './batch.js';

/**
 * The encrypted channel, sender side. What the daemon would send as plaintext datagrams (a packet,
 * or a batch of frames) is gathered per peer into a RECORD — each datagram payload preceded by its
 * length, as in a sleeve batch — and a record is sealed as ONE ChaCha20-Poly1305 message (Node's
 * crypto), then cut into fragments that each fill a datagram:
 *
 *   byte 0      version (2)
 *   bytes 1-2   sender id (the host index)         ┐
 *   bytes 3-4   sender epoch (one per daemon start) ├ the 96-bit nonce, the same in every fragment
 *   bytes 5-12  record counter, per sender + epoch  ┘
 *   byte 13     fragment index
 *   byte 14     fragment count
 *   …           the record's ciphertext, then its 16-byte Poly1305 tag, cut at fragment boundaries
 *
 * Why records: Node's crypto costs 3.5 µs per message before its first byte (a cipher object per
 * nonce) and then runs at about 2 GB/s, which caps one core at under 2 Gbit/s for MTU-sized
 * messages; sealed in records, a packet costs about 0.8 µs. A record is sealed when it is full or
 * when the device has no more packets waiting, so a lone packet (a ping) waits for nothing: it is a
 * record of one. The price, as with IP fragments: losing one fragment loses the whole record (with
 * a 1 Gbit/s tbf on the underlay, encrypted TCP still reaches 97% of plaintext's). `record: 0`
 * seals every datagram alone (unbatched sleeve, for comparison).
 *
 * A record of several fragments is padded (zeros after its last payload, inside the ciphertext; a
 * zero length ends the payloads) so that every fragment fills a datagram: runs of equal-sized
 * datagrams then go on across records, many records leave in one sendmsg (UDP_SEGMENT) and arrive
 * in one message (UDP_GRO). A record of one fragment is not padded.
 *
 * The header is not passed as additional data: sender, epoch and counter ARE the nonce, so changing
 * them makes the tag fail (WireGuard's construction); a changed index or count puts the ciphertext
 * out of order or length, which fails too. The nonce never repeats under one key: the key belongs
 * to one lab, each host has its own sender id, each start of a daemon takes a new epoch (persisted
 * in its state directory), and the counter only grows. The key is shared by the lab's hosts (as
 * Weave's password is), so it authenticates membership, not which host sent a record.
 */

export const CIPHER = 'chacha20-poly1305';
export const VERSION = 2;
export const HEADER_LEN = 15;
export const TAG_LEN = 16;
/** Bytes the channel adds to a datagram payload that travels alone: header, its length, tag. */
export const OVERHEAD = HEADER_LEN + FRAME_HEADER + TAG_LEN;
export const KEY_LEN = 32;
export const MAX_EPOCH = 0xffff;
/**
 * The largest record's plaintext: at the usual MTUs a whole record (43 fragments at 1500) fits one
 * sendmsg run and one UDP_GRO message, both 64 KiB at most.
 */
export const MAX_RECORD = 61440;
export const MAX_FRAGMENTS = 255;

const TWO32 = 2 ** 32;

/** One fragment for `peer`: the buffers `parts` concatenated, `len` bytes (valid during the call only). */
export type FragmentOut = (peer: number, parts: Buffer[], len: number) => void;

export interface SealerOptions {
  peers: number;
  /** The largest UDP payload (a fragment, header included). */
  datagram: number;
  /** The largest record plaintext; 0: one datagram payload per record. */
  record: number;
}

export class Sealer {
  private counter = 0;
  private readonly records: Batch[];
  private readonly perRecord: boolean;
  private readonly recordSize: number;
  /** Ciphertext bytes per fragment. */
  private readonly frag: number;
  private readonly hdr = Buffer.alloc(HEADER_LEN);
  private readonly zeros: Buffer;
  /** Records sealed, the payloads they carried, the padding bytes added; records of several payloads, the most payloads in one. */
  readonly stats = { records: 0, items: 0, padding: 0, multiItem: 0, maxItems: 0 };

  constructor(
    private readonly key: Buffer,
    sender: number,
    epoch: number,
    opts: SealerOptions,
    private readonly out: FragmentOut,
  ) {
    this.frag = opts.datagram - HEADER_LEN;
    const item = opts.datagram - OVERHEAD;
    if (item <= 0) throw new RangeError(`datagram of ${opts.datagram} bytes leaves no room for a payload`);
    // A record never needs more than MAX_FRAGMENTS fragments.
    const size = Math.min(Math.max(opts.record, FRAME_HEADER + item), MAX_FRAGMENTS * this.frag - TAG_LEN);
    this.perRecord = opts.record === 0;
    this.zeros = Buffer.alloc(this.frag);
    this.recordSize = size;
    this.records = Array.from({ length: opts.peers }, () => this.newRecord());
    this.hdr[0] = VERSION;
    this.hdr.writeUInt16BE(sender, 1);
    this.hdr.writeUInt16BE(epoch, 3);
  }

  private newRecord(): Batch {
    return new Batch(this.recordSize, this.perRecord ? 1 : Number.MAX_SAFE_INTEGER);
  }

  /** One more peer (a table reloaded): its index is the next one. */
  addPeer(): void {
    this.records.push(this.newRecord());
  }

  /** The largest datagram payload add() takes. */
  get maxItem(): number {
    return this.frag + HEADER_LEN - OVERHEAD;
  }

  /** One datagram payload (the buffers `parts`, `len` bytes, copied in) into `peer`'s record. */
  add(peer: number, parts: Buffer[], len: number): void {
    // A zero length marks the padding: a payload is never empty (a packet, or a batch of frames).
    if (len === 0 || len > this.maxItem) throw new RangeError(`payload of ${len} bytes: must be 1..${this.maxItem}`);
    const r = this.records[peer];
    if (!r.fits(len)) this.seal(peer);
    r.add(parts, len);
    if (this.perRecord) this.seal(peer);
  }

  /** Seal every open record (when the device has no more packets waiting). */
  flush(): void {
    for (let p = 0; p < this.records.length; p++) this.seal(p);
  }

  private seal(peer: number): void {
    const r = this.records[peer];
    if (r.empty) return;
    const st = this.stats;
    st.items += r.frames;
    st.records++;
    if (r.frames > 1) st.multiItem++;
    if (r.frames > st.maxItems) st.maxItems = r.frames;
    const plain = r.take();
    const hdr = this.hdr;
    const n = this.counter++;
    hdr.writeUInt32BE(Math.floor(n / TWO32), 5);
    hdr.writeUInt32BE(n >>> 0, 9);
    const cipher = createCipheriv(CIPHER, this.key, hdr.subarray(1, 13), { authTagLength: TAG_LEN });
    const count = Math.ceil((plain.length + TAG_LEN) / this.frag);
    const pad = count > 1 ? count * this.frag - TAG_LEN - plain.length : 0;
    this.stats.padding += pad;
    const pieces = [cipher.update(plain)];
    if (pad > 0) pieces.push(cipher.update(this.zeros.subarray(0, pad)));
    cipher.final();
    pieces.push(cipher.getAuthTag());
    hdr[14] = count;
    // Cut [ciphertext…, tag] into fragments of this.frag bytes (the last one shorter when unpadded).
    let piece = 0;
    let at = 0;
    for (let i = 0; i < count; i++) {
      hdr[13] = i;
      const parts = [hdr];
      let len = HEADER_LEN;
      while (len < this.frag + HEADER_LEN && piece < pieces.length) {
        const p = pieces[piece];
        const take = Math.min(p.length - at, this.frag + HEADER_LEN - len);
        parts.push(at === 0 && take === p.length ? p : p.subarray(at, at + take));
        len += take;
        at += take;
        if (at === p.length) {
          piece++;
          at = 0;
        }
      }
      this.out(peer, parts, len);
    }
  }
}
