/**
 * Traffic the probes send between two containers on different hosts, through small Python programs
 * run inside the containers' namespaces (argument arrays; the programs are constants here).
 */
import type { Requirement } from '../caps/types.js';
import { SERVICE_PORT } from '../lab/ports.js';
import type { Workload } from '../lab/types.js';
import type { ProbeContext } from './types.js';
import { NotRun } from './types.js';

export const PYTHON: Requirement = { kind: 'binary', name: 'python3', pkg: 'python3' };
export const TCPDUMP: Requirement = { kind: 'binary', name: 'tcpdump', pkg: 'tcpdump' };

/** The cross-host pair: host 1's first container and host 2's first. */
export function crossPair(ctx: ProbeContext): { a: Workload; b: Workload; target: string } {
  const ws = ctx.up.build.workloads;
  const a = ws.find((w) => w.hostIndex === 1);
  const b = ws.find((w) => w.hostIndex === 2);
  if (!a || !b) throw new NotRun('needs two hosts with a container each');
  return { a, b, target: ctx.up.build.targetIp(a, b) };
}

/** UDP payload bytes of the marker datagram (an unusual size, to find it among captured frames). */
export const MARKER_PAYLOAD = 333;

/** Sends `count` UDP datagrams of `size` bytes (the marker repeated) to dst:port. argv: dst port marker size count */
const UDP_SEND = `
import socket, sys, time
dst, port, marker, size, count = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4]), int(sys.argv[5])
data = (marker * (size // len(marker) + 1))[:size]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    s.sendto(data, (dst, port)); time.sleep(0.2)
`;

/** Sends the marker datagrams from a to b while capturing on host 1's underlay interface; returns tcpdump's text. */
export async function captureMarker(
  ctx: ProbeContext,
): Promise<{ capture: string; src: string; dst: string; hostSrc: string; innerLen: number }> {
  const { a, target } = crossPair(ctx);
  const h1 = ctx.up.lab.hosts[0];
  const cap = await ctx.background(h1.name, 'tcpdump', ['-i', h1.underlayIf, '-nn', '-xx', '-l', '-s', '2000', '-c', '40', 'not', 'arp']);
  await ctx.exec(a.node, 'python3', ['-c', UDP_SEND, target, String(SERVICE_PORT), ctx.marker, String(MARKER_PAYLOAD), '3']);
  await new Promise((r) => setTimeout(r, 300));
  const r = await cap.stop();
  return { capture: r.stdout, src: a.ip, dst: target, hostSrc: h1.underlayIp, innerLen: MARKER_PAYLOAD + 28 };
}

/**
 * Receiver: listens for TCP and UDP on SERVICE_PORT, raw IP protocol 253, and Ethernet frames of
 * type 0x88B5 on the workload interface; prints one line per kind that arrived with the marker.
 * argv: ip ifname port marker seconds
 */
export const RECEIVER = `
import socket, sys, threading, time
ip, ifname, port, marker, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode(), float(sys.argv[5])
def say(w):
    print(w, flush=True)
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((ip, port)); s.listen(1); s.settimeout(secs)
    c, _ = s.accept(); c.settimeout(2)
    if marker in c.recv(4096): say('tcp')
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((ip, port)); s.settimeout(secs)
    if marker in s.recv(4096): say('udp')
def raw():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253); s.settimeout(secs)
    end = time.time() + secs
    while time.time() < end:
        if marker in s.recv(4096): say('raw253'); return
def ether():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88B5)); s.bind((ifname, 0)); s.settimeout(secs)
    end = time.time() + secs
    while time.time() < end:
        if marker in s.recv(4096): say('ether'); return
ts = [threading.Thread(target=f, daemon=True) for f in (tcp, udp, raw, ether)]
for t in ts: t.start()
# On stderr: the probe context waits for a background program's first stderr output before going on.
time.sleep(0.2); print('ready', file=sys.stderr, flush=True)
for t in ts: t.join(secs + 1)
`;

/** Sender of the same four kinds. argv: dst ifname port marker */
export const SENDER = `
import socket, sys
dst, ifname, port, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
def attempt(name, f):
    try: f(); print(name, 'sent', flush=True)
    except Exception as e: print(name, 'error', e, flush=True)
def tcp():
    s = socket.create_connection((dst, port), timeout=3); s.sendall(marker); s.close()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3): s.sendto(marker, (dst, port))
def raw():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 253)
    for i in range(3): s.sendto(marker, (dst, 0))
def ether():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((ifname, 0))
    mac = s.getsockname()[4]
    for i in range(3): s.send(b'\\xff' * 6 + mac + b'\\x88\\xb5' + marker + b'\\0' * 40)
for n, f in (('tcp', tcp), ('udp', udp), ('raw253', raw), ('ether', ether)): attempt(n, f)
`;

/** Node.js: prints every UDP datagram arriving on port argv[1], one a line, for argv[2] ms. */
export const UDP_RECEIVER_JS = `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>process.stdout.write(m.toString()+'\\n'));s.bind(Number(process.argv[1]));setTimeout(()=>process.exit(0),Number(process.argv[2]));`;
/** Node.js: five UDP datagrams of argv[4], 100 ms apart, from address argv[1] to argv[2]:argv[3]. */
export const UDP_SENDER_JS = `const [src,dst,port,msg]=process.argv.slice(1);const s=require('dgram').createSocket('udp4');s.bind(0,src,()=>{let n=0;const t=setInterval(()=>{s.send(msg,Number(port),dst);if(++n===5){clearInterval(t);setTimeout(()=>process.exit(0),50);}},100);});s.on('error',(e)=>{console.error(String(e));process.exit(1);});`;
