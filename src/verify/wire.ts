/**
 * Pure reading of captured frames (tcpdump -xx output) and the classification of a
 * container-to-container packet seen on the underlay: which encapsulation carries it, how many
 * bytes it adds, and whether the inner source address is the container's.
 */

export interface Frame {
  /** tcpdump's one-line summary. */
  summary: string;
  bytes: Uint8Array;
}

/** tcpdump -xx text → frames (summary line + hex dump lines). */
export function parseTcpdumpHex(text: string): Frame[] {
  const frames: Frame[] = [];
  let cur: { summary: string; hex: string[] } | null = null;
  const flush = () => {
    if (cur) frames.push({ summary: cur.summary, bytes: Uint8Array.from(Buffer.from(cur.hex.join(''), 'hex')) });
  };
  for (const line of text.split('\n')) {
    const m = /^\s+0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4}\s?)+)/i.exec(line);
    if (m && cur) cur.hex.push(m[1].replace(/\s+/g, ''));
    else if (line.trim() && !/^\s/.test(line)) {
      flush();
      cur = { summary: line.trim(), hex: [] };
    }
  }
  flush();
  return frames;
}

const ip4 = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

/** The IPv4 header at offset o of an Ethernet frame (after any 802.1Q tag), or null. */
function ipv4At(b: Uint8Array, o: number): { src: string; dst: string; proto: number; totalLen: number; hdrLen: number } | null {
  if (o + 20 > b.length || b[o] >> 4 !== 4) return null;
  const hdrLen = (b[o] & 0xf) * 4;
  if (hdrLen < 20) return null;
  return { src: ip4(b, o + 12), dst: ip4(b, o + 16), proto: b[o + 9], totalLen: u16(b, o + 2), hdrLen };
}

/** Offset of the first 4 bytes equal to an IPv4 address pair src,dst (the inner header's addresses), from `from`. */
function findPair(b: Uint8Array, from: number, src: string, dst: string): number {
  const want = [...src.split('.'), ...dst.split('.')].map(Number);
  outer: for (let i = from; i + 8 <= b.length; i++) {
    for (let j = 0; j < 8; j++) if (b[i + j] !== want[j]) continue outer;
    return i;
  }
  return -1;
}

export interface WireClass {
  /** none | vxlan | udp | sealed | ipip | gre | esp | other */
  kind: string;
  text: string;
  /** Outer IP total length − inner IP total length. */
  overhead?: number;
  port?: number;
  vni?: number;
  /** The inner source address is the container's. */
  innerSourceIsContainer?: boolean;
  outerSrc?: string;
  outerDst?: string;
  /** Index of the classified frame among those given. */
  frame?: number;
}

/**
 * Classifies the frame that carries a packet of `innerLen` IP bytes from container `src` to `dst`.
 * Picks, among the captured frames, the first IPv4 one whose outer source is the container or the
 * sending host and which is at least `innerLen` long.
 */
export function classify(frames: readonly Frame[], p: { src: string; dst: string; hostSrc: string; innerLen: number }): WireClass | null {
  for (const [index, f] of frames.entries()) {
    const b = f.bytes;
    let eth = 12;
    if (u16(b, eth) === 0x8100) eth += 4;
    if (u16(b, eth) !== 0x0800) continue;
    const o = eth + 2;
    const ip = ipv4At(b, o);
    if (!ip || ip.totalLen < p.innerLen) continue;
    if (ip.src !== p.src && ip.src !== p.hostSrc) continue;
    const base = { outerSrc: ip.src, outerDst: ip.dst, overhead: ip.totalLen - p.innerLen, frame: index };
    if (ip.src === p.src && ip.dst === p.dst)
      return { ...base, kind: 'none', text: 'none (routed or flat L2): no encapsulation', innerSourceIsContainer: true };
    const l4 = o + ip.hdrLen;
    if (ip.proto === 4) return { ...base, kind: 'ipip', text: 'IP-in-IP', innerSourceIsContainer: ipv4At(b, l4)?.src === p.src };
    if (ip.proto === 50) return { ...base, kind: 'esp', text: 'ESP', innerSourceIsContainer: undefined };
    if (ip.proto === 47) return { ...base, kind: 'gre', text: 'GRE', innerSourceIsContainer: findPair(b, l4, p.src, p.dst) >= 0 };
    if (ip.proto !== 17) return { ...base, kind: 'other', text: `IP protocol ${ip.proto}` };
    const port = u16(b, l4 + 2);
    const payload = l4 + 8;
    // VXLAN: flags byte 0x08 (I bit), three reserved bytes, VNI, reserved; then an Ethernet frame.
    if (b[payload] === 0x08 && b[payload + 1] === 0 && b[payload + 7] === 0) {
      const vni = (b[payload + 4] << 16) | (b[payload + 5] << 8) | b[payload + 6];
      const inner = ipv4At(b, payload + 8 + 14);
      if (inner && u16(b, payload + 8 + 12) === 0x0800)
        return { ...base, kind: 'vxlan', text: `VXLAN (UDP ${port}, VNI ${vni})`, port, vni, innerSourceIsContainer: inner.src === p.src };
    }
    const at = findPair(b, payload, p.src, p.dst);
    if (at >= 0) {
      const framing = at - 12 - payload;
      return {
        ...base,
        kind: 'udp',
        text: `UDP (port ${port}, ${framing} B of framing before the inner IP header)`,
        port,
        innerSourceIsContainer: true,
      };
    }
    return { ...base, kind: 'sealed', text: `UDP (port ${port}), payload opaque: no inner header visible (sealed records)`, port };
  }
  return null;
}

/** A frame's UDP datagram over IPv4: destination address and port and the payload, or null. */
export function udpPayloadOf(f: Frame): { dst: string; port: number; payload: Uint8Array } | null {
  const b = f.bytes;
  let eth = 12;
  if (u16(b, eth) === 0x8100) eth += 4;
  if (u16(b, eth) !== 0x0800) return null;
  const ip = ipv4At(b, eth + 2);
  if (!ip || ip.proto !== 17) return null;
  const l4 = eth + 2 + ip.hdrLen;
  const len = u16(b, l4 + 4);
  if (len < 8 || l4 + len > b.length) return null;
  return { dst: ip.dst, port: u16(b, l4 + 2), payload: b.subarray(l4 + 8, l4 + len) };
}

/** Whether any captured frame contains the marker bytes. */
export function markerSeen(frames: readonly Frame[], marker: string): boolean {
  const m = Buffer.from(marker);
  return frames.some((f) => Buffer.from(f.bytes).includes(m));
}
