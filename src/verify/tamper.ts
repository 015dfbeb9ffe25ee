/**
 * The tamper half of the encryption probe (issue 13 probe 2): one sealed datagram captured on the
 * underlay is altered and sent again to the receiving host's encapsulation daemon, from the sending
 * host's namespace. The daemon must refuse it (its 'auth' drop counter moves) and deliver nothing:
 * a listener in the receiving container must not see the marker the datagram carried. The daemon
 * authenticates a record before it looks at who sent it, so an ordinary UDP socket in the sending
 * host's namespace (its underlay address, any port) reaches the check that matters.
 */
import { HEADER_LEN } from '../encap/aead.js';
import { COUNTERS_FILE, encapHostDir, type EncapCounters } from '../encap/counters.js';
import { SERVICE_PORT } from '../lab/ports.js';
import { crossPair } from './traffic.js';
import type { ProbeContext } from './types.js';
import { udpPayloadOf, type Frame } from './wire.js';

/** The receiver's counters that matter here. */
export interface CounterView {
  auth: number;
  replay: number;
  rxPackets: number;
}

export interface TamperData {
  /** The receiving daemon's address and port the altered datagram went to. */
  to: string;
  port: number;
  /** Offsets (in the UDP payload) of the bytes changed. */
  flipped: number[];
  before?: CounterView;
  after?: CounterView;
  /** The marker arrived in the receiving container after the injection. */
  delivered: boolean;
  /** Why the test could not be completed. */
  error?: string;
}

/** Byte 9 is the top byte of the record counter's low word (src/encap/aead.ts). */
const COUNTER_BYTE = 9;

/**
 * An altered copy of a sealed datagram: one ciphertext byte flipped, and the record counter moved
 * 2^31 ahead. The counter is part of the nonce, so both changes break the tag; moving it ahead
 * keeps the replay window (checked before authentication) from refusing the copy first, so the
 * drop the receiver counts is the authentication failure itself.
 */
export function tamperedCopy(payload: Uint8Array): { bytes: Buffer; flipped: number[] } {
  const bytes = Buffer.from(payload);
  if (bytes.length <= HEADER_LEN + 1) throw new Error(`datagram too short to be a sealed record (${bytes.length} B)`);
  const body = HEADER_LEN + Math.floor((bytes.length - HEADER_LEN) / 2);
  bytes[body] ^= 0xff;
  bytes[COUNTER_BYTE] ^= 0x80;
  return { bytes, flipped: [COUNTER_BYTE, body] };
}

/** The counters file's text → the numbers the judge compares, or undefined. */
export function counterView(text: string): CounterView | undefined {
  try {
    const c = JSON.parse(text) as EncapCounters;
    if (c.format !== 'cnlab-encap-counters') return undefined;
    return { auth: c.drops.auth ?? 0, replay: c.drops.replay ?? 0, rxPackets: c.rx.packets };
  } catch {
    return undefined;
  }
}

/** Sends one datagram (hex) to dst:port. argv: dst port hex */
const INJECT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[3]), (sys.argv[1], int(sys.argv[2])))
print('sent', len(sys.argv[3]) // 2, 'bytes', flush=True)
`;

/** Listens on the service port; prints "delivered" for a datagram with the marker. argv: port marker seconds */
const LISTEN = `
import socket, sys, time
port, marker, secs = int(sys.argv[1]), sys.argv[2].encode(), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('', port)); s.settimeout(0.2)
print('ready', file=sys.stderr, flush=True)
end = time.time() + secs
while time.time() < end:
    try:
        if marker in s.recv(4096): print('delivered', flush=True)
    except socket.timeout: pass
`;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Alters the sealed datagram in `frame` and injects it from host 1 towards the receiving daemon. */
export async function tamperTest(ctx: ProbeContext, frame: Frame): Promise<TamperData> {
  const udp = udpPayloadOf(frame);
  const recv = ctx.up.lab.hosts.find((h) => h.underlayIp === udp?.dst);
  if (!udp || !recv)
    return { to: udp?.dst ?? '?', port: udp?.port ?? 0, flipped: [], delivered: false, error: 'the captured datagram goes to no lab host' };
  const out: TamperData = { to: udp.dst, port: udp.port, flipped: [], delivered: false };
  const daemon = ctx.up.state.processes.find((p) => p.role === `encap-${recv.name}`);
  if (!daemon) return { ...out, error: `no encapsulation daemon tracked on ${recv.name}` };
  const file = `${encapHostDir(ctx.up.lab.stateDir, recv.name)}/${COUNTERS_FILE}`;
  const counters = async () => {
    // SIGUSR1: the daemon writes its counters at once (src/encap/counters.ts).
    await ctx.exec(recv.name, 'kill', ['-USR1', String(daemon.pid)]);
    await pause(300);
    return counterView((await ctx.exec(recv.name, 'cat', [file])).stdout);
  };
  const { bytes, flipped } = tamperedCopy(udp.payload);
  out.flipped = flipped;
  const { b } = crossPair(ctx);
  const listener = await ctx.background(b.node, 'python3', ['-c', LISTEN, String(SERVICE_PORT), ctx.marker, '6']);
  out.before = await counters();
  const sent = await ctx.exec(ctx.up.lab.hosts[0].name, 'python3', ['-c', INJECT, udp.dst, String(udp.port), bytes.toString('hex')]);
  await pause(300);
  out.after = await counters();
  out.delivered = (await listener.stop()).stdout.includes('delivered');
  if (sent.code !== 0) out.error = `the injection failed: ${sent.stderr.trim()}`;
  return out;
}

/** Pure: what the tamper test shows; dropped only when the auth counter moved and nothing was delivered. */
export function tamperOutcome(t: TamperData): { status: 'dropped' | 'accepted' | 'incomplete'; text: string } {
  if (t.error) return { status: 'incomplete', text: `tamper test incomplete: ${t.error}` };
  if (!t.before || !t.after) return { status: 'incomplete', text: "tamper test incomplete: the receiver's counters could not be read" };
  const auth = t.after.auth - t.before.auth;
  const where = `datagram to ${t.to}:${t.port}, bytes ${t.flipped.join(' and ')} flipped`;
  if (t.delivered) return { status: 'accepted', text: `the tampered datagram was DELIVERED (${where})` };
  if (auth < 1) return { status: 'accepted', text: `the tampered datagram was not counted as an authentication failure (${where})` };
  return { status: 'dropped', text: `tampered datagram dropped: auth failures +${auth}, nothing delivered (${where})` };
}
