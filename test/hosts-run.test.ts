import { describe, expect, it } from 'vitest';
import { runNeeds } from '../src/cli/hosts-command.js';
import { missingOnHosts } from '../src/cli/run-hosts.js';
import { sumCpuTimes } from '../src/measure/host-cpu.js';
import { getScheme } from '../src/schemes/registry.js';
import { connectionLost } from '../src/remote/ssh.js';
import { parseStat } from '../src/runners/remote-server.js';

describe('cnlab run -i helpers', () => {
  it('retries ssh losing the connection, not a remote command exiting 255', () => {
    expect(connectionLost({ code: 255, stderr: 'ssh: connect to host 198.18.250.2 port 22: Connection refused\n' })).toBe(true);
    expect(connectionLost({ code: 255, stderr: 'Connection to 198.18.250.2 closed by remote host.\n' })).toBe(true);
    expect(connectionLost({ code: 255, stderr: 'client_loop: send disconnect: Broken pipe\n' })).toBe(true);
    expect(connectionLost({ code: 255, stderr: '' })).toBe(true); // a mux client whose master died
    expect(connectionLost({ code: 255, stderr: 'my-tool: failed\n' })).toBe(false);
    expect(connectionLost({ code: 1, stderr: 'Connection refused\n' })).toBe(false);
  });

  it('reads pid and start time from a /proc stat line, whatever the command name holds', () => {
    // Fields 4..23 after the state (field 3), each holding its own field number: start time is field 22.
    const rest = Array.from({ length: 20 }, (_, i) => String(i + 4)).join(' ');
    expect(parseStat(`4242 (ip netns) ) S ${rest}\n`)).toEqual({ pid: 4242, startTime: 22 });
    expect(parseStat('')).toBeNull();
  });

  it('sums CPU times field by field', () => {
    const t = { user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8 };
    expect(sumCpuTimes([t, t])).toEqual({ user: 2, nice: 4, system: 6, idle: 8, iowait: 10, irq: 12, softirq: 14, steal: 16 });
  });

  it("names each host's missing tools for this run (tests' and schemes'), with the apt line", () => {
    const calico = getScheme('calico');
    const needs = runNeeds(['iperf3', 'qperf'], [{ name: 'calico', requires: [...calico.requires, ...(calico.controlRequires ?? [])] }]);
    const names = needs.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['ip', 'iperf3', 'qperf', 'bird']));
    expect(names).not.toContain('sockperf');
    const all = Object.fromEntries(names.map((n) => [n, `/usr/bin/${n}`]));
    const facts = [
      { name: 'a', ssh: 'root@198.18.250.2', tools: all },
      { name: 'b', ssh: 'root@198.18.250.6', tools: { ...all, qperf: null, bird: null } },
    ];
    expect(missingOnHosts([facts[0]], needs, 'hosts.yaml')).toBeNull();
    expect(missingOnHosts(facts, needs, 'hosts.yaml')).toBe(
      'host b lacks qperf (needed by the tests), bird (needed by calico): apt-get install -y --no-install-recommends bird2 qperf — or cnlab hosts prepare -i hosts.yaml',
    );
  });
});
