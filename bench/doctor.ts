import { releaseLab } from '../src/apply/cleanup.js';
import { teardownState } from '../src/apply/teardown.js';
import { bringUp, unsupportedReason } from '../src/apply/up.js';
import { runDoctor } from '../src/doctor/doctor.js';
import { loadDoctorLab, planSteps } from '../src/doctor/load.js';
import { diffPlan, readLive } from '../src/doctor/plan-diff.js';
import { loadTopology } from '../src/lab/topology.js';
import { SCHEMES } from '../src/schemes/registry.js';

/**
 * No false alarms (issue 14): every scheme this machine can build, brought up small (1 container
 * per host), must be healthy to `cnlab doctor` and match its plan (`--plan-diff`), with doctor's
 * time per lab. The suite checks the same on the labs test/schemes.integration.test.ts builds.
 */
export async function doctorHealthy(): Promise<string[]> {
  const lines: string[] = [];
  for (const scheme of SCHEMES) {
    if (await unsupportedReason(scheme)) continue;
    const up = await bringUp(loadTopology({ lab: 'bench-doctor', containers: 1, sameHost: false }), scheme);
    try {
      const t0 = performance.now();
      const d = await loadDoctorLab('bench-doctor');
      const findings = (await runDoctor(d)).findings;
      const steps = planSteps(d.plan);
      const drift = diffPlan(steps, await readLive(steps, d.plan.namespaces));
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      const ok = !findings.length && !drift.length;
      lines.push(
        `${ok ? 'ok  ' : 'MISS'} doctor on a healthy ${scheme.name}: ${findings.length} findings, ${drift.length} drifts, ${s} s (target 0, 0)${ok ? '' : `: ${[...findings.map((f) => f.what), ...drift.map((x) => `${x.change} ${x.ns} ${x.object}`)][0]}`}`,
      );
    } finally {
      await teardownState(up.state);
      releaseLab(up.state);
    }
  }
  return lines;
}
