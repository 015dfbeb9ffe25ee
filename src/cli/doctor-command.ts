import type { Command } from 'commander';
import { loadDoctorLab, planSteps } from '../doctor/load.js';
import { diffPlan, readLive } from '../doctor/plan-diff.js';
import { runDoctor } from '../doctor/doctor.js';
import { fixLine } from '../doctor/types.js';
import { InputError } from '../errors.js';
import { addTopologyFlags, topologyFlags } from './topology-flags.js';

/** `cnlab doctor LAB [FROM TO]` and `cnlab doctor --plan-diff LAB`: exit 0 healthy, 1 something wrong, 2 bad input. */
export function registerDoctorCommand(program: Command): void {
  addTopologyFlags(program.command('doctor <lab> [from] [to]'))
    .description('check a running lab (or the path FROM → TO) against its plan: findings, most likely cause first, each with a fix')
    .option('--plan-diff', 'list every object of the plan missing, changed or extra in the kernel')
    .option('--scheme <name>', "the lab's scheme; with the topology flags, for a lab built by hand from cnlab plan's script")
    .option('--load', 'also run a load probe (iperf3 across the path for 2 s): a CPU saturated by softirq is named as the bottleneck')
    .option('--json', 'print JSON')
    .action(
      async (
        labName: string,
        from: string | undefined,
        to: string | undefined,
        o: { planDiff?: boolean; scheme?: string; json?: boolean; load?: boolean },
      ) => {
        if ((from === undefined) !== (to === undefined)) throw new InputError('give both FROM and TO, or neither');
        if (o.planDiff && from !== undefined) throw new InputError('--plan-diff takes the lab only');
        if (o.load && (o.planDiff || o.scheme))
          throw new InputError('--load runs on a lab cnlab up built, without --plan-diff or --scheme');
        const d = await loadDoctorLab(labName, o.scheme, topologyFlags(o, labName));
        if (o.planDiff) {
          const steps = planSteps(d.plan);
          const drift = diffPlan(steps, await readLive(steps, d.plan.namespaces));
          if (o.json) console.log(JSON.stringify({ lab: labName, scheme: d.state.scheme, drift }, null, 2));
          else if (!drift.length) console.log(`lab ${labName} (${d.state.scheme}): the kernel matches the plan`);
          else
            for (const x of drift)
              console.log(`${{ missing: '-', changed: '~', extra: '+' }[x.change]} ${x.ns} ${x.object}${x.detail ? `: ${x.detail}` : ''}`);
          process.exitCode = drift.length ? 1 : 0;
          return;
        }
        const report = await runDoctor(d, from, to, { load: o.load });
        if (o.json) console.log(JSON.stringify(report, null, 2));
        else {
          const path = report.path ? ` path ${report.path.from} → ${report.path.to} (${report.path.target})` : '';
          if (from !== undefined && report.walk) console.log([`path walk ${from} → ${to} (live kernel):`, ...report.walk].join('\n'));
          if (!report.findings.length) console.log(`lab ${labName} (${report.scheme}):${path} healthy`);
          for (const f of report.findings)
            console.log(`${f.what} — evidence: ${f.evidence} — fix: ${f.fix.length ? f.fix.map(fixLine).join(' && ') : '(none known)'}`);
        }
        process.exitCode = report.findings.length ? 1 : 0;
      },
    );
}
