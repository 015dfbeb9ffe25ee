// ---- records copied from producers, declared in the result layer because the file owns its format ----
// The producers keep their own declarations (measure/cpu.ts imports CpuUse from the result layer; the
// encapsulation daemon, a lower layer, declares its counters.json in src/encap/counters.ts).
// measure/suite.ts assigns one to the other, so the compiler keeps the two in step.

/**
 * CPU-seconds spent between two snapshots, summed over all CPUs.
 *
 * busy = user + nice + system + irq + softirq: the work this machine did, including the packet
 * processing the kernel does in (soft)irq context, which is where most data-plane cost lands.
 * steal is excluded from busy (it is time a hypervisor gave to someone else, not our work) but
 * reported on its own; idle includes iowait. total = busy + steal + idle (wall time × CPUs).
 */
export interface CpuUse {
  /** user + nice */
  user: number;
  system: number;
  softirq: number;
  irq: number;
  steal: number;
  /** idle + iowait */
  idle: number;
  busy: number;
  total: number;
}

/** One direction of cnlab's encapsulation daemon's counters (src/encap/daemon.ts writes them). */
export interface Direction {
  /** Packets (tun) or frames (tap). */
  packets: number;
  /** Their bytes, without any encapsulation. */
  bytes: number;
  /** UDP datagrams. */
  datagrams: number;
  /** UDP payload bytes, encapsulation included. */
  datagramBytes: number;
}

/** One encapsulation daemon's counters as it last wrote them (counters.json), read after the tests. */
export interface EncapCounters {
  format: 'cnlab-encap-counters';
  version: 1;
  dev: string;
  mode: 'tun' | 'tap';
  encrypted: boolean;
  batching: boolean;
  pid: number;
  /** This start's epoch under the lab key (encrypted only). */
  epoch?: number;
  startedAt: string;
  writtenAt: string;
  /** Device → peers. */
  tx: Direction;
  /** Peers → device. */
  rx: Direction;
  /**
   * System calls and what they carried: device reads (one packet each), device writes (with GRO,
   * several segments each), UDP sendmsg calls (with UDP_SEGMENT, several datagrams each), UDP
   * messages received (with UDP_GRO, several datagrams each).
   */
  io: { deviceReads: number; deviceWrites: number; udpSends: number; udpMessages: number };
  /** Datagrams (encrypted: records) sent carrying more than one frame, and the most frames one carried. */
  batches: { multiFrame: number; maxFrames: number };
  /**
   * Encrypted only: records sealed (tx) and opened (rx), and the datagram payloads (packets, or
   * batches of frames) they carried. Each record crosses the underlay as one or more datagrams.
   */
  records?: { sealed: RecordStats; opened: RecordStats };
  /** Packets dropped, by reason (auth, replay, stale-epoch, no-route, send-error, …). */
  drops: Record<string, number>;
  /** The daemon's own CPU time since it started (process.cpuUsage). */
  cpuSeconds: { user: number; system: number };
}

export interface RecordStats {
  records: number;
  items: number;
  /** Sealed records only: zero bytes that fill a record's last fragment. */
  padding?: number;
  /** Sealed records only: records of more than one payload, and the most payloads in one. */
  multiItem?: number;
  maxItems?: number;
}
