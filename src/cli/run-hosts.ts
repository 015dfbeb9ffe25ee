import { InputError, RunError } from '../errors.js';
import type { Inventory } from '../remote/inventory.js';
import type { HostsSection } from '../result/hosts.js';
import { aptLine, type ToolNeed } from '../remote/facts.js';
import type { HostFacts } from '../remote/check.js';
import { checkAll, refuseSshNic } from './hosts-command.js';

/** `cnlab run -i`: what cannot apply on the user's hosts, refused before anything is contacted. */
export function refuseOnHosts(o: Record<string, unknown>, cni: boolean): void {
  if (o.cpus !== undefined) throw new InputError("--cpus confines this machine's processes; with -i the benchmarks run on the hosts");
  if (o.pin === true) throw new InputError("--pin names this machine's CPUs; with -i the benchmarks run on the hosts");
  if (cni) throw new InputError('--cni is not built over SSH yet: measure a CNI config list on one box');
}

export const HOSTS_CPU_METHOD =
  "each host's aggregate /proc/stat line read over its own SSH session before and after each client run, summed over the hosts; hosts reporting one boot ID share a kernel and are read once; the SSH sessions that read it are inside the window";

/** The tools of `needs` each host lacks, as one line with the fix; null when none lacks any. */
export function missingOnHosts(facts: HostFacts[], needs: readonly ToolNeed[], inventory: string): string | null {
  const lines = facts.flatMap((f) => {
    const miss = needs.filter((t) => f.tools && !f.tools[t.name]);
    return miss.length
      ? [
          `host ${f.name} lacks ${miss.map((t) => `${t.name} (needed by ${t.neededBy.join(', ')})`).join(', ')}: ${aptLine(miss.map((t) => t.pkg))}`,
        ]
      : [];
  });
  return lines.length ? `${lines.join('; ')} — or cnlab hosts prepare -i ${inventory}` : null;
}

/**
 * Each host's details for the result file; one RunError line naming the hosts that cannot be read,
 * or that lack a tool the run needs (`needs`), before anything is made.
 */
export async function hostDetails(inv: Inventory, allowSshNic: boolean, needs: readonly ToolNeed[] = []): Promise<HostsSection> {
  const facts = await checkAll(inv, undefined, true, needs);
  refuseSshNic(facts, inv, allowSshNic);
  const bad = facts.filter((f) => !f.kernel || !f.cpu || !f.nic || (f.error && !/^not root/.test(f.error)));
  if (bad.length) throw new RunError(bad.map((f) => `host ${f.name} (${f.ssh}): ${f.error ?? 'could not be read'}`).join('; '));
  const missing = missingOnHosts(facts, needs, inv.source);
  if (missing) throw new RunError(missing);
  return {
    inventory: inv.source,
    cpuMethod: HOSTS_CPU_METHOD,
    hosts: facts.map((f, i) => {
      const h = inv.hosts[i];
      const d = f.nic!.driver;
      return {
        name: f.name,
        ssh: f.ssh,
        node: `h${i + 1}`,
        kernel: f.kernel!,
        arch: f.arch ?? 'unknown',
        cpu: f.cpu!,
        nic: {
          name: h.nic,
          mode: h.nic_mode,
          ...(d ? { driver: d.driver } : {}),
          ...(d?.version ? { driverVersion: d.version } : {}),
          ...(d?.firmware ? { firmware: d.firmware } : {}),
          ...(d?.bus ? { bus: d.bus } : {}),
          speedMbps: f.nic!.speedMbps,
          offloads: f.nic!.offloads,
        },
      };
    }),
  };
}
