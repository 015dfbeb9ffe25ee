import { describe, expect, it } from 'vitest';
import { neighbourNote, tableFulls } from '../src/measure/neighbours.js';

describe("the kernel's neighbour table at many hosts", () => {
  it('sums table_fulls over the per-CPU rows of /proc/net/stat/arp_cache (hex)', () => {
    const stat = [
      'entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls',
      '0000041c 00003f5b 000036a0 00000005   0007c206 0002d210 00000776   00000000         00000000         00000f4b         000000a0       00000010            0000006e',
      '0000041c 0000412b 000045ca 00000004   00078004 00029a76 000006f4   00000000         00000000         00000000         00000070       00000003            00000002',
    ].join('\n');
    expect(tableFulls(stat)).toBe(0x6e + 2);
    expect(tableFulls('entries allocs\n1 2\n')).toBeNull();
  });

  it('a 50-host BGP mesh is over the default limit; a 10-host one is not; overflows are reported whatever the shape', () => {
    expect(neighbourNote({ hosts: 50, fullMesh: true, limit: 1024, overflows: 0 })).toMatch(
      /^limit: a BGP full mesh of 50 hosts needs about 2450 ARP entries, the kernel's table holds 1024 \(net\.ipv4\.neigh\.default\.gc_thresh3/,
    );
    expect(neighbourNote({ hosts: 10, fullMesh: true, limit: 1024, overflows: 0 })).toBeUndefined();
    expect(neighbourNote({ hosts: 50, fullMesh: false, limit: 1024, overflows: 3 })).toMatch(/overflowed 3 times during the run/);
    expect(neighbourNote({ hosts: 50, fullMesh: false, limit: null, overflows: null })).toBeUndefined();
  });
});
