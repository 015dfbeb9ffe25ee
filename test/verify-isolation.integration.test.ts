import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import type { Evidence, EvidenceCommand } from '../src/result/verify.js';
import { calico } from '../src/schemes/calico.js';
import { dockerOverlay } from '../src/schemes/docker-overlay.js';
import { weaveSleeve } from '../src/schemes/weave-sleeve.js';
import { execArgs } from '../src/util/exec.js';
import { isolationProbe, type IsolationData } from '../src/verify/probes/isolation.js';
import type { ProbeContext } from '../src/verify/types.js';
import type { Scheme } from '../src/plan/scheme.js';
import { isRoot, labNamespaces, useLab, type TestLab } from './helpers/lab.js';

/**
 * The isolation probe on real labs built in its shape (2 hosts, 2 containers each plus a same-host
 * peer, 2 tenants): Calico's profiles block across tenants and drop the spoofed source; a
 * Weave-style subnet per tenant blocks across tenants but lets the spoofed address through; Docker's
 * overlay network per tenant (its own VNI and bridge) blocks both.
 * The context here is a minimal stand-in for verify's runner: commands in the node's namespace, recorded.
 */

function context(lab: TestLab, scheme: Scheme, commands: EvidenceCommand[]): ProbeContext {
  const nsOf = (node: string) => lab.up.state.nodes[node];
  return {
    up: lab.up,
    scheme,
    marker: `isol${Math.random().toString(16).slice(2, 10)}`,
    async exec(node, file, args, opts) {
      const r = await execArgs('ip', ['netns', 'exec', nsOf(node), file, ...args], opts);
      commands.push({ node, argv: [file, ...args], code: r.code, stdout: r.stdout, stderr: r.stderr });
      return r;
    },
    async background(node, file, args) {
      const child = spawn('ip', ['netns', 'exec', nsOf(node), file, ...args]);
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      return {
        async stop() {
          child.kill('SIGTERM');
          const code = await done;
          commands.push({ node, argv: [file, ...args], code, stdout, stderr: '' });
          return { code, signal: null, stdout, stderr: '' };
        },
      };
    },
    standIn() {},
  };
}

async function probe(lab: TestLab, scheme: Scheme): Promise<Evidence<IsolationData>> {
  const commands: EvidenceCommand[] = [];
  const data = await isolationProbe.run(context(lab, scheme, commands));
  return { commands, data };
}

const FLAGS = { tenants: '2', containers: '2', controlPlane: 'static' };

for (const [scheme, name, expected] of [
  [calico, 'isc', 'profile'],
  [weaveSleeve, 'isw', 'cidr'],
  [dockerOverlay, 'iso', 'segment'],
] as const) {
  const unsupported = isRoot ? await unsupportedReason(scheme, 'static', true) : 'not root';
  describe.skipIf(!!unsupported)(`isolation probe on ${scheme.name}`, () => {
    const lab = useLab(name, scheme, { flags: FLAGS });
    it(`judges ${expected} from the wire, and leaves the lab as it found it`, async () => {
      const e = await probe(lab, scheme);
      const v = isolationProbe.judge(e);
      expect(v.key, JSON.stringify(e.data)).toBe(expected);
      expect(e.data.pairs.filter((p) => p.sameTenant).every((p) => p.reached)).toBe(true);
      expect(e.data.pairs.filter((p) => !p.sameTenant).map((p) => p.reached)).toEqual([false, false]);
      expect(e.data.spoof?.arrived).toBe(expected === 'cidr');
      expect(v.mark).toBe(expected === 'cidr' ? 'value' : 'yes');
      // The spoofed address is gone again (the lab is shared with other probes).
      const a = await execArgs('ip', [
        'netns',
        'exec',
        `cnl-${name}-${e.data.spoof!.from}`,
        'ip',
        '-o',
        '-4',
        'addr',
        'show',
        'dev',
        'eth0',
      ]);
      expect(a.stdout).not.toContain(`${e.data.spoof!.addr}/`);
      await lab.remove();
      expect(labNamespaces(name)).toEqual([]);
    });
  });
}
