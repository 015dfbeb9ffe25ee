import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ReplayWindow } from './replay.js';

/**
 * The encrypted channel: every datagram is one ChaCha20-Poly1305 message (Node's crypto).
 *
 *   byte 0      version (1)
 *   bytes 1-2   sender id (the host index)         ┐
 *   bytes 3-4   sender epoch (one per daemon start) ├ the 96-bit nonce
 *   bytes 5-12  counter, per sender and epoch      ┘
 *   …           ciphertext
 *   last 16     Poly1305 tag
 *
 * The header is not passed as additional data: its sender, epoch and counter ARE the nonce, so
 * changing any of them makes the tag fail (WireGuard's construction), and a changed version byte
 * is refused before decryption. That saves one crypto call per datagram.
 *
 * The nonce never repeats under one key: the key belongs to one lab, each host has its own sender
 * id, each start of a daemon takes a new epoch (persisted in its state directory, so a restart
 * never reuses one), and the counter only grows. A receiver keeps, per sender, the newest epoch it
 * authenticated and a sliding replay window over that epoch's counters; older epochs are refused.
 * The key is shared by the lab's hosts (as Weave's password is), so it authenticates membership,
 * not which host sent a packet.
 */

export const CIPHER = 'chacha20-poly1305';
export const VERSION = 1;
export const HEADER_LEN = 13;
export const TAG_LEN = 16;
/** Bytes the channel adds to every datagram. */
export const OVERHEAD = HEADER_LEN + TAG_LEN;
export const KEY_LEN = 32;
export const MAX_EPOCH = 0xffff;

const TWO32 = 2 ** 32;

export class Sealer {
  private counter = 0;

  constructor(
    private readonly key: Buffer,
    private readonly sender: number,
    private readonly epoch: number,
  ) {}

  /** The datagram for the plaintext `parts` (concatenated) as [header, ciphertext…, tag], for one sendmsg. */
  seal(parts: Buffer[]): Buffer[] {
    let length = 0;
    for (const p of parts) length += p.length;
    const hdr = Buffer.allocUnsafe(HEADER_LEN);
    const n = this.counter++;
    hdr[0] = VERSION;
    hdr.writeUInt16BE(this.sender, 1);
    hdr.writeUInt16BE(this.epoch, 3);
    hdr.writeUInt32BE(Math.floor(n / TWO32), 5);
    hdr.writeUInt32BE(n >>> 0, 9);
    const cipher = createCipheriv(CIPHER, this.key, hdr.subarray(1), { authTagLength: TAG_LEN });
    // One update call: each costs more than copying a packet's few pieces together.
    const body = cipher.update(parts.length === 1 ? parts[0] : Buffer.concat(parts, length));
    cipher.final();
    return [hdr, body, cipher.getAuthTag()];
  }
}

/** Why a datagram was refused: each is a drop reason in the counters. */
export type OpenFailure = 'short' | 'bad-version' | 'replay' | 'stale-epoch' | 'auth';

interface PeerState {
  epoch: number;
  window: ReplayWindow;
}

export class Opener {
  private readonly peers = new Map<number, PeerState>();

  constructor(private readonly key: Buffer) {}

  /** The plaintext, or why the datagram is dropped. */
  open(d: Buffer): Buffer | OpenFailure {
    if (d.length < OVERHEAD) return 'short';
    if (d[0] !== VERSION) return 'bad-version';
    const sender = d.readUInt16BE(1);
    const epoch = d.readUInt16BE(3);
    const counter = d.readUInt32BE(5) * TWO32 + d.readUInt32BE(9);
    let peer = this.peers.get(sender);
    if (peer) {
      if (epoch < peer.epoch) return 'stale-epoch';
      if (epoch === peer.epoch && !peer.window.test(counter)) return 'replay';
    }
    const hdr = d.subarray(0, HEADER_LEN);
    const decipher = createDecipheriv(CIPHER, this.key, hdr.subarray(1), { authTagLength: TAG_LEN });
    decipher.setAuthTag(d.subarray(d.length - TAG_LEN));
    let plain: Buffer;
    try {
      plain = decipher.update(d.subarray(HEADER_LEN, d.length - TAG_LEN));
      decipher.final();
    } catch {
      return 'auth';
    }
    if (!peer || epoch > peer.epoch) {
      peer = { epoch, window: new ReplayWindow() };
      this.peers.set(sender, peer);
    }
    peer.window.accept(counter);
    return plain;
  }
}
