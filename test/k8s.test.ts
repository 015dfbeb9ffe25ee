import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { jsonOfLog, lastSample, runFigures, serverFailures, sumCpu } from '../src/k8s/measure.js';
import { clientPod, k8sTests, loadPod } from '../src/k8s/plan.js';
import { containerFailure } from '../src/k8s/pods.js';
import { cpuDelta } from '../src/measure/cpu.js';

/** Kubernetes mode's pure parts: the test list, pod names, server container failures, the CPU sampler's log. */

const CONTAINERD =
  'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sockperf": executable file not found in $PATH: unknown';

describe('k8s plan', () => {
  it('runs the same kinds as a box: loaded latency by default, the sweeps with --full', () => {
    const ids = (full?: { sizes: number[] }) => k8sTests({ udpRate: '1G', full }).map((t) => `${t.network} ${t.spec.id}`);
    expect(ids()).toEqual(expect.arrayContaining(['pod lat-tcp-loaded/cross', 'host lat-tcp-loaded/cross', 'service svc-udp/cross']));
    expect(ids().some((i) => i.includes('qperf') || i.includes('udp-len'))).toBe(false);
    const full = ids({ sizes: [64, 1024] });
    expect(full).toEqual(
      expect.arrayContaining([
        'pod udp-len64/cross',
        'host udp-len8192/cross',
        'pod qperf-tcp_lat-1024/cross',
        'host qperf-tcp_bw-64/cross',
      ]),
    );
  });

  it('names every one-shot pod of a run uniquely, and dials $(CNLAB_TARGET) on the tool’s own port', () => {
    const nodes: [string, string] = ['a', 'b'];
    const tests = k8sTests({ udpRate: '1G', full: { sizes: [64] } });
    const pods = tests.flatMap((t) => [
      clientPod('r', 'img', nodes, t, 1, 2, ''),
      ...(t.spec.underLoad ? [loadPod('r', 'img', nodes, t, 1, 2, '')] : []),
    ]);
    const names = pods.map((p) => p.metadata!.name!);
    expect(new Set(names).size).toBe(names.length);
    const cmd = (name: string) => pods.find((p) => p.metadata!.name === name)!.spec!.containers[0].command!;
    expect(cmd('cl-qperf-tcp-lat-64-cross-1')).toEqual(expect.arrayContaining(['$(CNLAB_TARGET)', '-lp', '5204', '-ip', '5205']));
    expect(cmd('cl-lat-tcp-cross-1').join(' ')).toMatch(/-i \$\(CNLAB_TARGET\) -p 5203/);
    // The bulk flow outlasts the probe: lead 1 s, sockperf's settling 3 s, the run 2 s, lead 1 s.
    expect(cmd('ld-host-lat-tcp-loaded-cross-1')).toEqual(expect.arrayContaining(['-t', '7', '-p', '5201']));
  });
});

describe('k8s server failures', () => {
  it('says "not in image" for an executable the image lacks, and the kubelet’s reason otherwise', () => {
    const f = serverFailures({
      metadata: { name: 'srv-pod' },
      status: {
        containerStatuses: [
          { name: 'iperf3', ready: true, image: 'i', imageID: '', restartCount: 0, state: { running: {} } },
          {
            name: 'sockperf',
            ready: false,
            image: 'i',
            imageID: '',
            restartCount: 0,
            state: { terminated: { exitCode: 128, reason: 'StartError', message: CONTAINERD } },
          },
          {
            name: 'qperf',
            ready: false,
            image: 'i',
            imageID: '',
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'bind: address already in use' } },
          },
        ],
      },
    });
    expect([...f]).toEqual([
      ['sockperf', 'not in image: sockperf'],
      ['qperf', 'qperf server in pod srv-pod failed: Error (exit 1): bind: address already in use'],
    ]);
    expect(
      containerFailure({
        name: 'x',
        ready: false,
        image: 'i',
        imageID: '',
        restartCount: 0,
        state: { waiting: { reason: 'ContainerCreating' } },
      }),
    ).toBeUndefined();
  });
});

describe('k8s CPU sampler', () => {
  it('takes the last whole /proc/stat line of the log tail and sums the nodes', () => {
    const log = 'cpu  100 0 50 1000 0 0 10 0 0 0\ncpu  110 0 55 1100 0 0 12 0 0 0\n';
    const b = lastSample('cpu  100 0 50 1000 0 0 10 0 0 0\n')!;
    const a = lastSample(log)!;
    expect(a.user).toBe(110);
    expect(lastSample('')).toBeUndefined();
    expect(lastSample('sh: 1: cannot open /proc/stat\n')).toBeUndefined();
    const one = cpuDelta(b, a);
    expect(one.busy).toBeCloseTo(0.17);
    expect(sumCpu([one, one]).busy).toBeCloseTo(0.34);
    expect(sumCpu([one, one]).idle).toBeCloseTo(2);
  });
});

describe('k8s client logs', () => {
  it('reads iperf3 JSON from a log that also holds its warnings (a pod log merges stdout and stderr)', () => {
    const json = readFileSync(new URL('./fixtures/iperf3/udp-100M.json', import.meta.url), 'utf8');
    const log = `warning: UDP block size 1472 exceeds TCP MSS 1448, may result in fragmentation / drops\n${json}`;
    expect(jsonOfLog(log)).toBe(json.trim());
    const t = k8sTests({ udpRate: '100M' }).find((x) => x.spec.id === 'udp/cross')!;
    expect(runFigures(t, log)).toMatchObject({ ok: true });
    expect(runFigures(t, 'exec: "iperf3": executable file not found in $PATH')).toEqual({ ok: false, error: 'not in image: iperf3' });
  });
});
