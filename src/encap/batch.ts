/**
 * Weave sleeve's framing: one UDP datagram carries several Ethernet frames, each preceded by its
 * length (16 bits, big endian). A batch is flushed when the next frame would not fit, or when the
 * sender decides (no more frames waiting, or a short timer).
 */

export const FRAME_HEADER = 2;

export class Batch {
  private readonly buf: Buffer;
  private used = 0;
  frames = 0;

  /** `max`: the largest datagram payload; `maxFrames`: 1 turns batching off. */
  constructor(
    private readonly max: number,
    private readonly maxFrames: number,
  ) {
    this.buf = Buffer.allocUnsafe(max);
  }

  /** True when a frame of `len` bytes can never fit one datagram. */
  tooBig(len: number): boolean {
    return FRAME_HEADER + len > this.max;
  }

  /** True when the frame fits the current batch (call take() after flushing otherwise). */
  fits(len: number): boolean {
    return this.frames < this.maxFrames && this.used + FRAME_HEADER + len <= this.max;
  }

  /** One frame of `len` bytes, the buffers `parts` concatenated (copied in). */
  add(parts: Buffer[], len: number): void {
    this.buf.writeUInt16BE(len, this.used);
    let at = this.used + FRAME_HEADER;
    for (const p of parts) {
      this.buf.set(p, at);
      at += p.length;
    }
    this.used += FRAME_HEADER + len;
    this.frames++;
  }

  get empty(): boolean {
    return this.frames === 0;
  }

  /** The filled part, and the batch starts again: valid until the next add() (send it at once). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.used);
    this.used = 0;
    this.frames = 0;
    return out;
  }
}

/** True when `d` is a well-formed sequence of length-prefixed frames (at least one). */
export function validFrames(d: Buffer): boolean {
  let off = 0;
  while (off < d.length) {
    if (off + FRAME_HEADER > d.length) return false;
    const len = d.readUInt16BE(off);
    off += FRAME_HEADER;
    if (len < 14 || off + len > d.length) return false;
    off += len;
  }
  return d.length > 0;
}

/** Calls `frame(off, len)` for every frame of a datagram that validFrames() accepted. */
export function eachFrame(d: Buffer, frame: (off: number, len: number) => void): void {
  let off = 0;
  while (off < d.length) {
    const len = d.readUInt16BE(off);
    frame(off + FRAME_HEADER, len);
    off += FRAME_HEADER + len;
  }
}

/**
 * Plaintext batching, one Batch per peer: a frame joins its peer's batch, which leaves through
 * `send` when the next frame would not fit, when flushed, or at once without batching.
 */
export class PeerBatches {
  private readonly batches: Batch[] = [];

  constructor(
    private readonly payload: number,
    private readonly batching: boolean,
    peers: number,
    private readonly send: (peer: number, d: Buffer) => void,
    /** Datagrams sent carrying more than one frame, and the most frames one carried. */
    private readonly stats: { multiFrame: number; maxFrames: number },
  ) {
    for (let p = 0; p < peers; p++) this.addPeer();
  }

  addPeer(): void {
    this.batches.push(new Batch(this.payload, this.batching ? Number.MAX_SAFE_INTEGER : 1));
  }

  /** Queues one frame for a peer; the drop reason when no datagram could carry it. */
  add(peer: number, parts: Buffer[], len: number): string | undefined {
    const b = this.batches[peer];
    if (b.tooBig(len)) return 'oversize';
    if (!b.fits(len)) this.flush(peer);
    b.add(parts, len);
    if (!this.batching) this.flush(peer);
    return undefined;
  }

  flushAll(): void {
    for (let p = 0; p < this.batches.length; p++) this.flush(p);
  }

  private flush(peer: number): void {
    const b = this.batches[peer];
    if (b.empty) return;
    const frames = b.frames;
    this.send(peer, b.take());
    if (frames > 1) {
      this.stats.multiFrame++;
      if (frames > this.stats.maxFrames) this.stats.maxFrames = frames;
    }
  }
}
