import { expect } from 'vitest';
import { runDoctor } from '../../src/doctor/doctor.js';
import { loadDoctorLab, planSteps } from '../../src/doctor/load.js';
import { diffPlan, readLive } from '../../src/doctor/plan-diff.js';

/**
 * No false alarm on a healthy lab (issue 14): `cnlab doctor` finds nothing and `--plan-diff` finds
 * no drift from the plan. Failures list each finding and drift as one line.
 */
export async function expectHealthy(lab: string): Promise<void> {
  const d = await loadDoctorLab(lab);
  const findings = (await runDoctor(d)).findings;
  expect(
    findings.map((f) => `${f.check}: ${f.what} (${f.evidence})`),
    'doctor findings',
  ).toEqual([]);
  const steps = planSteps(d.plan);
  const drift = diffPlan(steps, await readLive(steps, d.plan.namespaces));
  expect(
    drift.map((x) => `${x.change} ${x.ns} ${x.object}${x.detail ? `: ${x.detail}` : ''}`),
    'drift from the plan',
  ).toEqual([]);
}
