import { bpfBench, bpfLines } from './bpf.js';
import { convergeLines, staticVsReal } from './converge.js';
import { doctorHealthy } from './doctor.js';
import { encapBench, encapLines } from './encap.js';
import { fidelity } from './fidelity.js';
import { ovsBench, ovsLines } from './ovs.js';
import { repeatability } from './measure.js';
import { scale } from './scale.js';

/** `npm run bench`: the figures the foundation promises, each beside its target. */

const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS');

// `npm run bench -- --converge-only 50[,10…] [calico|flannel-vxlan]`: the convergence lines alone, at those sizes (a 50-host run takes minutes).
const only = process.argv.indexOf('--converge-only');
if (only >= 0) {
  const sizes = (process.argv[only + 1] ?? '').split(',').map(Number);
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 2 || n > 50)) {
    console.error('--converge-only takes host counts from 2 to 50, comma-separated, e.g. --converge-only 50');
    process.exit(2);
  }
  const scheme = process.argv[only + 2];
  await convergeLines(sizes, scheme && !scheme.startsWith('-') ? scheme : undefined);
  process.exit(0);
}

const f = await fidelity(8, 3);
console.log(
  `${mark(f.ratio >= 0.98)} harness fidelity: cnlab host TCP ${f.cnlab.toFixed(2)} Gbit/s vs raw iperf3 ${f.raw.toFixed(2)} Gbit/s, median per-round ratio ${f.ratio.toFixed(3)} (target ≥ 0.98)`,
);

const cv = await repeatability(5, 2);
console.log(
  `${mark(cv.pinned <= 0.05)} host TCP coefficient of variation over 5 × 2 s: pinned ${(cv.pinned * 100).toFixed(1)}% (${cv.pinnedGbps.toFixed(2)} Gbit/s; target ≤ 5%), unpinned ${(cv.unpinned * 100).toFixed(1)}% (${cv.unpinnedGbps.toFixed(2)} Gbit/s; no target)`,
);

const s = await scale(10, 100, 'calico');
console.log(
  `${mark(s.build <= 5)} build 10 hosts × 100 containers (calico, ${s.namespaces} namespaces): ${s.build.toFixed(2)} s (target ≤ 5 s)`,
);
console.log(`${mark(s.teardown <= 3)} teardown: ${s.teardown.toFixed(2)} s (target ≤ 3 s)`);
console.log(`${mark(s.leaks === 0)} leaks after teardown: ${s.leaks} (target 0)`);
for (const line of encapLines(await encapBench())) console.log(line);
for (const line of ovsLines(await ovsBench())) console.log(line);
for (const line of bpfLines(await bpfBench())) console.log(line);
// Convergence at 2 and 10 hosts; 50 hosts (a few minutes more) with CNLAB_BENCH_CONVERGE_50=1 or `npm run bench -- --converge-50`.
const with50 = process.env.CNLAB_BENCH_CONVERGE_50 === '1' || process.argv.includes('--converge-50');
await convergeLines(with50 ? [2, 10, 50] : [2, 10]);
for (const line of await staticVsReal()) console.log(line);
for (const line of await doctorHealthy()) console.log(line);
process.exit(0);
