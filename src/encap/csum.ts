/** Internet checksums (RFC 1071) over Buffers, 32 bits at a time. */

/** Fold a sum of 16- or 32-bit big-endian words (any size below 2^53) to 16 bits, one's complement. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** A DataView over exactly the bytes of `b` (offsets are the Buffer's own). */
export const viewOf = (b: Buffer): DataView => new DataView(b.buffer, b.byteOffset, b.length);

/**
 * The (unfolded) sum of [start..end) as big-endian 16-bit words, an odd last byte padded with zero.
 * The words are loaded little-endian, 16 bytes a round (cheaper in V8), and the folded sum swapped
 * back: a sum of byte-swapped words is the byte-swapped sum (RFC 1071 §2(B)).
 */
export function sumView(dv: DataView, start: number, end: number): number {
  let a = 0;
  let b = 0;
  let i = start;
  for (; i + 15 < end; i += 16) {
    a += dv.getUint32(i, true) + dv.getUint32(i + 4, true);
    b += dv.getUint32(i + 8, true) + dv.getUint32(i + 12, true);
  }
  for (; i + 3 < end; i += 4) a += dv.getUint32(i, true);
  const f = fold(a + b);
  let s = ((f & 0xff) << 8) | (f >> 8);
  if (i + 1 < end) {
    s += dv.getUint16(i);
    i += 2;
  }
  if (i < end) s += dv.getUint8(i) << 8;
  return s;
}

export function sum16(b: Buffer, start: number, end: number): number {
  return sumView(viewOf(b), start, end);
}

/** The IPv4 header checksum of the 20-byte header at `off` (its checksum field must be zero). */
export function ipChecksum(b: Buffer, off: number): number {
  return ~fold(sum16(b, off, off + 20)) & 0xffff;
}

/** The TCP/UDP pseudo-header sum (unfolded) for the IPv4 header at `ip`. */
export function pseudoHeader(b: Buffer, ip: number, protocol: number, l4Len: number): number {
  return sum16(b, ip + 12, ip + 20) + protocol + l4Len;
}

/**
 * Complete a checksum the kernel left partial (virtio-net NEEDS_CSUM): the field at
 * start+offset holds the pseudo-header sum; the checksum covers start..end.
 */
export function completeChecksum(b: Buffer, start: number, offset: number, end: number): void {
  const v = ~fold(sum16(b, start, end)) & 0xffff;
  b.writeUInt16BE(v, start + offset);
}
