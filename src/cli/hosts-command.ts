import { schemeRequires } from '../plan/scheme.js';
import type { Command } from 'commander';
import { BASE_REQUIREMENTS } from '../apply/up.js';
import type { Requirement } from '../caps/types.js';
import { InputError, RunError } from '../errors.js';
import { SSH_CONTROL_DIR } from '../lab/paths.js';
import { checkHost, missingFeatures, prepareArgvs, type HostFacts } from '../remote/check.js';
import { toolNeeds, type ToolNeed } from '../remote/facts.js';
import { loadInventory, type Inventory } from '../remote/inventory.js';
import { SshExecutor } from '../remote/ssh.js';
import { runOk } from '../util/executor.js';
import { SCHEMES } from '../schemes/registry.js';

/**
 * `cnlab hosts check -i hosts.yaml`: reach each inventory host over SSH and report what it offers
 * and lacks, with the apt line that fixes it. Reads only; `hosts prepare` is the one that installs.
 */

/** Tools the measurement runs need on every host (runners/*), besides what apply needs. */
const MEASURE_REQUIREMENTS: Requirement[] = [
  { kind: 'binary', name: 'iperf3', pkg: 'iperf3' },
  { kind: 'binary', name: 'qperf', pkg: 'qperf' },
  { kind: 'binary', name: 'sockperf', pkg: 'sockperf' },
  { kind: 'binary', name: 'ping', pkg: 'iputils-ping' },
  { kind: 'binary', name: 'tc', pkg: 'iproute2' },
  { kind: 'binary', name: 'nft', pkg: 'nftables' },
  { kind: 'binary', name: 'ethtool', pkg: 'ethtool' },
  { kind: 'binary', name: 'taskset', pkg: 'util-linux' },
];

/**
 * What one `run -i` needs on every host: BASE_REQUIREMENTS, the tools of its tests (by name, from
 * MEASURE_REQUIREMENTS), and its schemes' binaries.
 */
export function runNeeds(tools: readonly string[], schemes: ReadonlyArray<{ name: string; requires: readonly Requirement[] }>): ToolNeed[] {
  return toolNeeds([
    { who: 'every run', requires: BASE_REQUIREMENTS },
    { who: 'the tests', requires: MEASURE_REQUIREMENTS.filter((r) => r.kind === 'binary' && tools.includes(r.name)) },
    ...schemes.map((s) => ({ who: s.name, requires: s.requires })),
  ]);
}

function needs(): { tools: ToolNeed[]; cni: string[] } {
  const tools = toolNeeds([
    { who: 'every run', requires: [...BASE_REQUIREMENTS, ...MEASURE_REQUIREMENTS] },
    // A scheme's control plane (BIRD, etcd) is part of it by default.
    ...SCHEMES.map((s) => ({ who: s.name, requires: schemeRequires(s) })),
  ]);
  const cni = [...new Set(SCHEMES.flatMap((s) => s.requires.flatMap((r) => (r.kind === 'cni' ? [r.plugin] : []))))].sort();
  return { tools, cni };
}

function executors(inv: Inventory) {
  const cfg = { controlDir: SSH_CONTROL_DIR, configFile: inv.sshConfig };
  return inv.hosts.map((h) => ({
    host: h,
    ex: new SshExecutor(h, cfg),
    plain: new SshExecutor({ ...h, sudo: false }, cfg),
  }));
}

function render(f: HostFacts): string {
  const lines = [`host ${f.name} (${f.ssh})`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(9)} ${v}`);
  if (f.kernel) row('kernel', `${f.kernel} ${f.arch ?? ''}`.trim());
  if (f.cpu) row('cpu', `${f.cpu.count} × ${f.cpu.model}`);
  if (f.nic) {
    const d = f.nic.driver;
    const drv = d ? `driver ${d.driver}${d.version ? ` ${d.version}` : ''}${d.bus ? ` at ${d.bus}` : ''}` : 'driver unknown (no ethtool)';
    const speed = f.nic.speedMbps ? `${f.nic.speedMbps} Mbit/s` : 'speed unknown';
    row('nic', `${f.nic.name}: ${drv}, ${speed}`);
    const offs = Object.entries(f.nic.offloads);
    if (offs.length) row('offloads', offs.map(([k, v]) => `${k} ${v}`).join(', '));
  }
  if (f.kernelFeatures === null && f.kernel) row('features', 'unknown: no /proc/config.gz there (probing over SSH is not built yet)');
  else if (f.kernelFeatures) {
    const miss = missingFeatures(f);
    row('features', miss.length ? `missing ${miss.join(', ')} (schemes needing them are unsupported there)` : 'all cnlab uses');
  }
  if (f.missing) {
    if (!f.missing.length) row('tools', 'all present');
    for (const m of f.missing) row('missing', `${m.name} (${m.pkg}) — needed by ${m.neededBy.join(', ')}`);
  }
  if (f.fix) row('fix', f.fix);
  if (f.error) row('ERROR', f.error);
  return lines.join('\n');
}

/** `extra`: tools a run needs besides those hosts check lists (probed too, so none is unknown). */
export async function checkAll(inv: Inventory, exs = executors(inv), close = true, extra: readonly ToolNeed[] = []): Promise<HostFacts[]> {
  const { tools: listed, cni } = needs();
  const tools = [...listed, ...extra.filter((t) => !listed.some((l) => l.name === t.name))];
  try {
    return await Promise.all(
      exs.map((e) => checkHost({ name: e.host.name, ssh: e.host.ssh, nic: e.host.nic, ex: e.ex, plain: e.plain }, tools, cni)),
    );
  } finally {
    if (close) await Promise.all(exs.map((e) => e.plain.close()));
  }
}

/** Refuse a `nic` that carries the SSH session: lab objects on it could cut cnlab off the host. */
export function refuseSshNic(facts: HostFacts[], inv: Inventory, allowed: boolean): void {
  const bad = facts.filter((f) => f.nic && f.sshDevice === f.nic.name);
  if (!bad.length || allowed) return;
  const names = bad.map((f) => `host ${f.name}: nic ${f.nic!.name} carries the SSH connection`).join('; ');
  throw new InputError(`${inv.source}: ${names}`, 'name a NIC dedicated to lab traffic, or pass --i-know-it-is-the-ssh-nic');
}

export function registerHostsCommand(program: Command): void {
  const hosts = program.command('hosts').description('real machines over SSH: check what they offer (see README "On your own hosts")');
  hosts
    .command('check')
    .description('reach each inventory host over SSH; report kernel, CPU, NIC, offloads, features, missing tools and the apt line')
    .requiredOption('-i, --inventory <file>', 'the inventory (hosts.yaml)')
    .option('--i-know-it-is-the-ssh-nic', 'accept a nic that carries the SSH connection')
    .option('--json', 'print JSON')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action(async (o: { inventory: string; iKnowItIsTheSshNic?: boolean; json?: boolean }) => {
      const inv = loadInventory(o.inventory);
      const facts = await checkAll(inv);
      refuseSshNic(facts, inv, o.iKnowItIsTheSshNic === true);
      console.log(o.json ? JSON.stringify(facts, null, 2) : facts.map(render).join('\n\n'));
      const failed = facts.filter((f) => f.error);
      if (failed.length)
        throw new RunError(
          `${failed.length} of ${facts.length} hosts failed the check: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`,
        );
    });

  hosts
    .command('prepare')
    .description('install what `hosts check` reports missing, with apt-get on each host (as root or through sudo)')
    .requiredOption('-i, --inventory <file>', 'the inventory (hosts.yaml)')
    .option('--dry-run', 'print the commands for each host, run nothing')
    .option('--i-know-it-is-the-ssh-nic', 'accept a nic that carries the SSH connection')
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .action(async (o: { inventory: string; dryRun?: boolean; iKnowItIsTheSshNic?: boolean }) => {
      const inv = loadInventory(o.inventory);
      const exs = executors(inv);
      try {
        const facts = await checkAll(inv, exs, false);
        refuseSshNic(facts, inv, o.iKnowItIsTheSshNic === true);
        const unreachable = facts.filter((f) => f.error && !f.missing);
        if (unreachable.length) throw new RunError(`cannot prepare: ${unreachable.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
        for (const [i, f] of facts.entries()) {
          const argvs = prepareArgvs((f.missing ?? []).map((m) => m.pkg));
          if (!argvs.length) {
            console.log(`host ${f.name}: nothing to install`);
            continue;
          }
          for (const argv of argvs) {
            console.log(`host ${f.name}: ${o.dryRun ? 'would run' : 'running'} ${argv.join(' ')}`);
            if (!o.dryRun) await runOk(exs[i].ex, argv, { timeoutMs: 15 * 60_000 });
          }
        }
      } finally {
        await Promise.all(exs.map((e) => e.plain.close()));
      }
    });
}
