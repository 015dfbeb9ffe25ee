/** Test helper: the UDP datagrams of a classic pcap file (Ethernet, IPv4), by destination port. */

export interface Datagram {
  src: string;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

export function udpPayloads(pcap: Buffer, port: number): Datagram[] {
  const magic = pcap.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('not a little-endian pcap file');
  const out: Datagram[] = [];
  let off = 24;
  while (off + 16 <= pcap.length) {
    const caplen = pcap.readUInt32LE(off + 8);
    const pkt = pcap.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (pkt.length < 14 + 20 + 8 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ip = pkt.subarray(14);
    const ihl = (ip[0] & 15) * 4;
    if (ip[9] !== 17) continue;
    const udp = ip.subarray(ihl);
    if (udp.readUInt16BE(2) !== port) continue;
    out.push({
      src: [...ip.subarray(12, 16)].join('.'),
      dst: [...ip.subarray(16, 20)].join('.'),
      dstPort: port,
      payload: Buffer.from(udp.subarray(8, udp.readUInt16BE(4))),
    });
  }
  return out;
}
