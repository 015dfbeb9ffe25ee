import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { runClient, type Iperf3Server } from '../src/runners/iperf3.js';
import { SERVICE_PORT } from '../src/lab/ports.js';
import { SCHEMES } from '../src/schemes/registry.js';
import type { Scheme, Workload } from '../src/plan/scheme.js';
import { expectHealthy } from './helpers/doctor.js';
import { checkTcp, dfPing, labNamespaces, pidGone, ping, useLab } from './helpers/lab.js';

/**
 * Every scheme in the registry, built for real on the default topology (2 hosts, one container
 * each plus a second one on host 1): TCP crosses hosts, the path MTU is what the scheme says,
 * `cnlab doctor` finds it healthy and matching its plan (no false alarms), and teardown leaves
 * nothing behind. Lab names: "it-<scheme without hyphens>" (≤ 16 characters).
 */

const labOf = (s: Scheme): string => `it-${s.name.replace(/[^a-z0-9]/g, '')}`.slice(0, 16);

// Resolved at collection time so that an unsupported scheme is reported as skipped, with its reason.
// The userspace schemes' -batched variants are built, with traffic and counters, by
// encap.integration.test.ts; their names would also share a 16-character lab name here.
const cases = await Promise.all(
  SCHEMES.filter((s) => !s.name.includes('-batched')).map(async (s) => [s.name, s, await unsupportedReason(s)] as const),
);

describe.each(cases)('scheme %s', (name, scheme, unsupported) => {
  if (unsupported) {
    it.skip(`${name} is ${unsupported}`, () => {});
    return;
  }

  let server: Iperf3Server | undefined;
  let from: Workload;
  let to: Workload;
  const lab = useLab(labOf(scheme), scheme, {
    afterUp: () => {
      from = lab.first(1);
      to = lab.first(2);
    },
  });

  it('TCP crosses hosts (iperf3, 1 s)', async () => {
    server = await checkTcp(lab, from, to);
  });

  if (name === 'docker-bridge') {
    it('docker-bridge: the target is the peer host; the container address is unreachable', async () => {
      const peerHost = lab.up.lab.hosts[to.hostIndex - 1];
      expect(lab.up.build.targetIp(from, to)).toBe(peerHost.underlayIp);
      expect(to.ip).not.toBe(peerHost.underlayIp);
      // The server from the previous test still listens there: only the path can make these fail.
      expect(server && !pidGone(server.pid), 'the iperf3 server is running').toBe(true);
      expect(await ping(from.ns, to.ip), `ping ${from.node} → ${to.ip}`).toBe(false);
      const { result } = await runClient({
        ns: from.ns,
        target: to.ip,
        port: SERVICE_PORT,
        seconds: 1,
        protocol: 'tcp',
        timeoutMs: 10_000,
      });
      expect(result.ok, `iperf3 ${from.node} → ${to.ip}:${SERVICE_PORT} must fail: ${JSON.stringify(result)}`).toBe(false);
    });
  }

  it('path MTU: a DF ping of mtu-28 bytes passes, one byte more does not', async () => {
    const target = lab.up.build.targetIp(from, to);
    const payload = lab.up.build.mtu - 28;
    expect(await dfPing(from.ns, target, payload), `DF ping ${payload} B ${from.node} → ${target}`).toBe(true);
    expect(await dfPing(from.ns, target, payload + 1), `DF ping ${payload + 1} B ${from.node} → ${target}`).toBe(false);
  });

  // Issue 14's "no false alarms": this lab, healthy, as doctor and --plan-diff see it.
  it('doctor: healthy, and the kernel matches the plan', () => expectHealthy(lab.name));

  it('teardown removes the namespaces, the tracked server and the state file', async () => {
    const report = await lab.remove();
    expect(report?.problems).toEqual([]);
    expect(labNamespaces(lab.name)).toEqual([]);
    if (server) {
      expect(report!.processes).toBeGreaterThanOrEqual(1);
      expect(pidGone(server.pid), `iperf3 server pid ${server.pid} still exists`).toBe(true);
    }
    expect(existsSync(labStateFile(lab.name))).toBe(false);
    expect(existsSync(labStateDir(lab.name))).toBe(false);
  });
});
