/**
 * Datagrams on their way to peers, grouped so that one sendmsg carries many: a run is consecutive
 * datagrams to one peer, all of the same size but maybe the last (shorter, which closes the run),
 * at most 64 of them and 65000 bytes, laid end to end in one buffer and sent with UDP_SEGMENT; the
 * kernel cuts it into ordinary datagrams. Copying a datagram in costs less than handing the
 * kernel its pieces one by one.
 */

const MAX_RUN_BYTES = 65000;
const MAX_RUN_DATAGRAMS = 64;
const EAGAIN = -11;

/** Sends buf[off..off+len) to `peer` cut into `seg`-byte datagrams (0: one datagram): bytes sent, or −errno. */
export type RunSender = (peer: number, buf: Buffer, off: number, len: number, seg: number) => number;
/** After each sendmsg: its datagrams and bytes, and a drop reason when it failed. */
export type RunResult = (count: number, bytes: number, error: string | null) => void;

export class SendRuns {
  private readonly buf = Buffer.allocUnsafeSlow(MAX_RUN_BYTES + 65536);
  private peer = -1;
  private seg = 0;
  private count = 0;
  private bytes = 0;
  private closed = false;

  constructor(
    private readonly sender: RunSender,
    private readonly result: RunResult,
    /** At most this many datagrams per sendmsg (1: one sendto per datagram, as flanneld and Weave send). */
    private readonly maxDatagrams = MAX_RUN_DATAGRAMS,
  ) {}

  /** One datagram of `len` bytes: the buffers `parts`, concatenated (copied: they may be reused at once). */
  add(peer: number, parts: Buffer[], len: number): void {
    if (
      this.count > 0 &&
      (peer !== this.peer || this.closed || len > this.seg || this.bytes + len > MAX_RUN_BYTES || this.count >= this.maxDatagrams)
    )
      this.flush();
    if (this.count === 0) {
      this.peer = peer;
      this.seg = len;
    }
    let at = this.bytes;
    for (const p of parts) {
      this.buf.set(p, at);
      at += p.length;
    }
    this.count++;
    this.bytes += len;
    if (len < this.seg) this.closed = true;
  }

  flush(): void {
    if (this.count === 0) return;
    const sent = this.sender(this.peer, this.buf, 0, this.bytes, this.count > 1 ? this.seg : 0);
    this.result(this.count, this.bytes, sent >= 0 ? null : sent === EAGAIN ? 'send-eagain' : 'send-error');
    this.count = 0;
    this.bytes = 0;
    this.closed = false;
  }
}
