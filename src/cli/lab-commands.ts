import { schemeRequires } from '../plan/scheme.js';
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { releaseLab } from '../apply/cleanup.js';
import { cleanFromMarkers } from '../apply/hosts-clean.js';
import { loadInventory } from '../remote/inventory.js';
import { releaseHosts } from '../apply/hosts.js';
import { netnsExists } from '../apply/netns.js';
import { listLabs, processStartTime, readState } from '../apply/state.js';
import { downLab, teardownState } from '../apply/teardown.js';
import { BASE_REQUIREMENTS, bringUp, buildHost } from '../apply/up.js';
import { cniDir, detect, supportLine, unmet } from '../caps/detect.js';
import { renderColumns } from './columns.js';
import { InputError, RunError } from '../errors.js';
import { LAB_NAME, loadTopology } from '../lab/topology.js';
import { resolveLab } from '../lab/resolve.js';
import { planLab } from '../plan/build.js';
import { renderPlan } from '../plan/render.js';
import { cniFlags, cniFromFlags, schemeArg } from '../schemes/cni-file.js';
import { schemeLookup, SCHEMES } from '../schemes/registry.js';
import { addTopologyFlags, topologyFlags } from './topology-flags.js';
import { addInventoryFlags, inventoryFromFlags } from './inventory-flags.js';

/** `--encrypt` on plan and up: the scheme's encrypted variant. */
function encryptFlag(cmd: Command): Command {
  return cmd.option('--encrypt', "the scheme's encrypted variant (cnlab's channel), e.g. plan flannel-udp --encrypt");
}

function lookupFor(o: Record<string, unknown>) {
  if (o.encrypt && o.cni) throw new InputError("--encrypt applies to cnlab's schemes, not to --cni");
  return schemeLookup(o.encrypt === true);
}

function labArg(name: string): string {
  if (!LAB_NAME.test(name)) throw new InputError(`bad lab name "${name}"`, 'lab names are 1-16 lowercase letters, digits or inner hyphens');
  return name;
}

export function registerLabCommands(program: Command): void {
  program
    .command('schemes')
    .description('list every scheme and whether this machine can build it')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const reqs = (s: (typeof SCHEMES)[number]) => [...BASE_REQUIREMENTS, ...schemeRequires(s)];
      const caps = await detect({ binaries: SCHEMES.flatMap((s) => reqs(s).flatMap((r) => (r.kind === 'binary' ? [r.name] : []))) });
      // A stand-in: declared by the scheme, or the fallback its build takes when what it prefers is missing.
      const standIn = (s: (typeof SCHEMES)[number]) =>
        s.standIn?.what ??
        (s.prefers && unmet(s.prefers, caps).length ? `fallback build (${unmet(s.prefers, caps).join(', ')})` : undefined);
      const rows = SCHEMES.map((s) => ({
        name: s.name,
        support: supportLine(reqs(s), caps),
        attach: s.attach,
        standIn: standIn(s) ?? null,
        summary: s.summary,
      }));
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      // Why a scheme cannot be built goes under the table as a numbered note.
      const why: string[] = [];
      const here = (support: string) => (support === 'supported' ? 'yes' : `no [${why.push(support.replace(/^unsupported here: /, ''))}]`);
      process.stdout.write(
        renderColumns(
          ['scheme', 'here', 'attach', 'stand-in†', 'what it builds'],
          rows.map((r) => [`${r.name}${r.standIn ? '†' : ''}`, here(r.support), r.attach, r.standIn ?? '', r.summary]),
          process.stdout.isTTY ? undefined : Infinity,
        ),
      );
      if (rows.some((r) => r.standIn))
        process.stdout.write(
          "† stand-in: cnlab runs something else in place of the product's own component; its results are marked and ranked apart.\n",
        );
      why.forEach((w, i) => process.stdout.write(`[${i + 1}] ${w}\n`));
    });

  addTopologyFlags(
    encryptFlag(
      cniFlags(program.command('plan [scheme]').description('print the shell script that builds a scheme (or --cni FILE) by hand')),
    ),
  ).action(async (schemeName: string | undefined, o: Record<string, unknown>) => {
    const lookup = lookupFor(o);
    const { scheme, lab: labName } = schemeArg(schemeName, cniFromFlags(o, false), lookup);
    const lab = resolveLab(loadTopology(topologyFlags(o, labName)));
    process.stdout.write(renderPlan(planLab(lab, scheme, await buildHost(scheme)).plan, cniDir()));
  });

  addInventoryFlags(
    addTopologyFlags(
      encryptFlag(cniFlags(program.command('up [scheme]').description('build a lab and leave it running (remove it with cnlab down)'))),
    ),
  ).action(async (schemeName: string | undefined, o: Record<string, unknown>) => {
    const lookup = lookupFor(o);
    const { scheme, lab: labName } = schemeArg(schemeName, cniFromFlags(o, true), lookup);
    const onHosts = inventoryFromFlags(o);
    const topo = loadTopology(topologyFlags(o, labName));
    const up = await bringUp(topo, scheme, {}, onHosts);
    if (up.state.hosts) await releaseHosts(up.state.hosts);
    releaseLab(up.state);
    console.log(`lab ${topo.lab} is up (${scheme.name}): ${up.plan.namespaces.length} namespaces`);
    for (const w of up.build.workloads) console.log(`  ${w.node.padEnd(8)} ${w.ns.padEnd(24)} ${w.ip}`);
    console.log(
      `try: cnlab exec ${topo.lab} ${up.build.workloads[0].node} -- ping -c1 ${up.build.targetIp(up.build.workloads[0], up.build.workloads[up.build.workloads.length - 1])}`,
    );
    console.log(`remove: cnlab down ${topo.lab}`);
  });

  program
    .command('down <lab>')
    .description('remove a lab: exactly what its state file records, no topology needed')
    .action(async (name: string) => {
      const report = await downLab(labArg(name));
      if (!report) throw new InputError(`no lab named "${name}"`, 'see: cnlab ls');
      for (const w of report.warnings) process.stderr.write(`cnlab: note: ${w}\n`);
      if (report.problems.length) throw new RunError(`lab ${name}: ${report.problems.join('; ')}`);
      console.log(`lab ${name} removed: ${report.namespaces} namespaces, ${report.processes} processes`);
    });

  program
    .command('clean [labs...]')
    .description("remove every lab cnlab has recorded, or the labs named (with -i, also those only the hosts' markers name)")
    .option('-i, --inventory <file>', "also read each inventory host's markers and remove the labs this machine has no state file for")
    .action(async (names: string[], o: { inventory?: string }) => {
      const only = names.length ? new Set(names.map(labArg)) : undefined;
      const inv = o.inventory !== undefined ? loadInventory(o.inventory) : undefined;
      const labs = listLabs().filter((l) => !only || only.has(l));
      const problems: string[] = [];
      let removed = 0;
      for (const name of labs) {
        const state = readState(name);
        if (!state) continue;
        const r = await teardownState(state);
        problems.push(...r.problems.map((p) => `${name}: ${p}`));
        console.log(`lab ${name} removed: ${r.namespaces} namespaces, ${r.processes} processes`);
        removed++;
      }
      if (inv) {
        const m = await cleanFromMarkers(inv, only);
        for (const r of m.reports) {
          problems.push(...r.problems.map((p) => `${r.lab}: ${p}`));
          console.log(`lab ${r.lab} removed from its markers: ${r.namespaces} namespaces, ${r.processes} processes`);
        }
        removed += m.reports.length;
        problems.push(...m.skipped);
      }
      if (!removed && !problems.length) console.log('nothing to clean');
      if (problems.length) throw new RunError(problems.join('; '));
    });

  program
    .command('ls')
    .description('list labs')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const rows = listLabs().flatMap((name) => {
        const s = readState(name);
        if (!s) return [];
        const owner = processStartTime(s.owner.pid) === s.owner.startTime ? s.owner.pid : null;
        const present = s.namespaces.filter(netnsExists).length;
        return [
          {
            lab: s.lab,
            scheme: s.scheme,
            status: s.status,
            namespaces: `${present}/${s.namespaces.length}`,
            nodes: Object.keys(s.nodes),
            createdAt: s.createdAt,
            ownerPid: owner,
          },
        ];
      });
      if (o.json) return void console.log(JSON.stringify(rows, null, 2));
      if (!rows.length) return void console.log('no labs');
      for (const r of rows)
        console.log(
          `${r.lab.padEnd(16)} ${r.scheme.padEnd(16)} ${r.status.padEnd(12)} ns ${r.namespaces.padEnd(9)} ${r.createdAt}${r.ownerPid ? ` (cnlab pid ${r.ownerPid})` : ''}`,
        );
    });

  program
    .command('exec <lab> <node> <cmd...>')
    .description('run a command inside a lab node: cnlab exec LAB NODE -- CMD ARGS…')
    .action(async (labName: string, node: string, cmd: string[]) => {
      const state = readState(labArg(labName));
      if (!state) throw new InputError(`no lab named "${labName}"`, 'see: cnlab ls');
      const ns = state.nodes[node];
      if (!ns) throw new InputError(`lab ${labName} has no node "${node}"`, `nodes: ${Object.keys(state.nodes).join(', ')}`);
      const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' });
      const code = await new Promise<number>((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : 1))));
      process.exitCode = code;
    });
}
