import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { deriveAll } from './derive.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile } from './types.js';
import { upgradePlansV1 } from './upgrade-plan-v1.js';

/**
 * Reading a result file back: parse, upgrade an older version, validate with zod. Reports read
 * result files written on other machines by other cnlab versions, so every failure is one clear
 * InputError line (exit 2) naming the file and what is wrong.
 *
 * The schema checks what reports rely on and lets everything else through (passthrough): fields
 * added later as optional (sweeps, percentiles, knobs) survive a read and a rewrite.
 */

/** The oldest result version this cnlab reads (older ones it can upgrade are in UPGRADES). */
export const OLDEST_READABLE = 1;

/**
 * UPGRADES[v] turns a version-v file into a version v+1 file. A version that only added optional
 * fields needs an identity entry; a missing entry means that version cannot be upgraded.
 */
const UPGRADES: Record<number, (r: Record<string, unknown>) => Record<string, unknown>> = {
  // 1 → 2: plan steps were argv (ip/bridge/tc args, ovs-vsctl through exec); now typed. Its
  // derived figures are derived again from its raw runs once validated (REDERIVE_BELOW).
  1: upgradePlansV1,
};

/** Files older than this are derived again from their raw runs after the upgrade. */
const REDERIVE_BELOW = 2;

const num = z.number();
const summary = z
  .object({
    n: num,
    median: num,
    mean: num,
    stddev: num,
    // Infinity (mean 0, spread ≠ 0) is written by JSON as null.
    cv: num.nullable(),
    ci95: z.tuple([num, num]),
    min: num,
    max: num,
  })
  .passthrough();
const ratio = z.object({ value: num, ci95: z.tuple([num, num]), relErr: num.nullable() }).passthrough();
const cpuUse = z.object({ user: num, system: num, softirq: num, irq: num, steal: num, idle: num, busy: num, total: num }).passthrough();

const run = z
  .object({
    repeat: num,
    startedAt: z.string(),
    ok: z.boolean(),
    error: z.string().optional(),
    argv: z.array(z.string()),
    raw: z.string(),
    gbps: num.optional(),
    bytes: num.optional(),
    retransmits: num.optional(),
    lossPercent: num.optional(),
    jitterMs: num.optional(),
    cpu: cpuUse.optional(),
    cpuSecondsPerGbit: num.optional(),
  })
  .passthrough();

const endpoint = z.object({ node: z.string(), ns: z.string() }).passthrough();
const test = z
  .object({
    id: z.string(),
    protocol: z.string(),
    streams: num,
    placement: z.enum(['cross', 'same']),
    udpRate: z.string().optional(),
    client: endpoint,
    server: endpoint,
    target: z.string(),
    runs: z.array(run),
    summary: z
      .object({ gbps: summary, cpuSecondsPerGbit: summary.optional(), lossPercent: summary.optional(), jitterMs: summary.optional() })
      .passthrough()
      .optional(),
    vsHost: ratio.optional(),
  })
  .passthrough();

const step = z.object({ kind: z.string(), ns: z.string() }).passthrough();
const plan = z
  .object({
    lab: z.string(),
    scheme: z.string(),
    namespaces: z.array(z.string()),
    stages: z.array(z.object({ title: z.string(), steps: z.array(step) }).passthrough()),
  })
  .passthrough();

const scheme = z
  .object({
    name: z.string(),
    status: z.enum(['ok', 'unsupported', 'failed']),
    reason: z.string().optional(),
    summary: z.string(),
    attach: z.string(),
    notes: z.array(z.string()),
    overhead: num,
    mtu: num.optional(),
    plan: plan.optional(),
    workloads: z
      .array(z.object({ node: z.string(), ns: z.string(), hostIndex: num, ip: z.string(), ifName: z.string() }).passthrough())
      .optional(),
    interfaces: z
      .array(z.object({ node: z.string(), ns: z.string(), ifName: z.string(), mtu: num, offloads: z.record(z.string()) }).passthrough())
      .optional(),
    buildSeconds: num.optional(),
    teardownSeconds: num.optional(),
    tests: z.array(test),
  })
  .passthrough();

const resultSchema = z
  .object({
    format: z.literal(RESULT_FORMAT),
    version: num,
    cnlab: z.object({ version: z.string(), argv: z.array(z.string()) }).passthrough(),
    createdAt: z.string(),
    updatedAt: z.string(),
    complete: z.boolean(),
    environment: z
      .object({ kernel: z.string(), cpuModel: z.string(), cpus: num, node: z.string(), tools: z.record(z.string()), cpuMethod: z.string() })
      .passthrough(),
    topology: z
      .object({
        lab: z.string(),
        hosts: num,
        containersPerHost: num,
        sameHost: z.boolean(),
        underlay: z.object({ cidr: z.string(), mtu: num, rate: z.string().optional() }).passthrough(),
        pods: z.object({ cidr: z.string(), blockPrefix: num }).passthrough(),
      })
      .passthrough(),
    options: z
      .object({
        repeats: num,
        seconds: num,
        udpRate: z.string(),
        tests: z.array(
          z.object({ id: z.string(), protocol: z.string(), streams: num, placement: z.enum(['cross', 'same']) }).passthrough(),
        ),
      })
      .passthrough(),
    schemes: z.array(scheme),
  })
  .passthrough();

/** "schemes[2].tests[0].runs" from a zod path. */
function pathText(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') || '(top level)';
}

/** Pure: an already-parsed JSON value → a current ResultFile, or an InputError naming `label`. */
export function toResult(data: unknown, label: string): ResultFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new InputError(`${label} is not a cnlab result file (not a JSON object)`);
  let obj = data as Record<string, unknown>;
  if (obj.format !== RESULT_FORMAT) {
    throw new InputError(
      `${label} is not a cnlab result file (format is ${JSON.stringify(obj.format ?? null)}, expected "${RESULT_FORMAT}")`,
    );
  }
  const version = obj.version;
  if (typeof version !== 'number' || !Number.isInteger(version))
    throw new InputError(`${label} has no valid result version (got ${JSON.stringify(version ?? null)})`);
  if (version > RESULT_VERSION) {
    throw new InputError(
      `${label} is result version ${version}, newer than this cnlab reads (version ${RESULT_VERSION})`,
      'upgrade cnlab to report on it',
    );
  }
  if (version < OLDEST_READABLE) {
    throw new InputError(
      `${label} is result version ${version}, which this cnlab cannot read (it reads versions ${OLDEST_READABLE}–${RESULT_VERSION})`,
      're-run the measurement with this cnlab',
    );
  }
  for (let v = version; v < RESULT_VERSION; v++) {
    const up = UPGRADES[v];
    if (!up)
      throw new InputError(
        `${label} is result version ${v}; this cnlab reads version ${RESULT_VERSION} and has no upgrade from ${v}`,
        're-run the measurement with this cnlab',
      );
    obj = { ...up(obj), version: v + 1 };
  }
  const parsed = resultSchema.safeParse(obj);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${pathText(i.path)}: ${i.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : '';
    throw new InputError(`${label} is not a valid result file: ${issues.join('; ')}${more}`);
  }
  const result = parsed.data as unknown as ResultFile;
  if (version < REDERIVE_BELOW) deriveAll(result, { comparisons: Array.isArray(result.comparisons) });
  return result;
}

/** Read, upgrade and validate a result file; every failure is one InputError line. */
export function readResult(file: string): ResultFile {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new InputError(`${file} is not a file`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `no such result file: ${file}` : `cannot read ${file}: ${(e as Error).message}`);
  }
  if (!text.trim()) throw new InputError(`${file} is empty`, 'the run that wrote it may have been cut short before its first save');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file} is not valid JSON (truncated or damaged?): ${(e as Error).message}`);
  }
  return toResult(data, file);
}
