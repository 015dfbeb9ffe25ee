/**
 * The layer rule: data flows one way (topology → lab → plan → apply → measure → result → reports),
 * and a module may import only from its own layer or the ones below. `npm run check:layers` (in
 * `make test`) enforces it. Lowest first; a folder not listed is refused until it is placed here.
 */
const LAYERS = [
  ['errors.ts', 'version.ts', 'types', 'util'], // foundation: no cnlab imports but each other
  ['stats'], // pure statistics, shared by measure and report
  ['lab'], // topology → resolved lab (pure)
  ['caps'], // what this machine offers
  ['remote'], // other machines: the inventory, the SSH transport, what each host offers
  ['cni'], // CNI config types, conflists, the runtime that calls plugins
  ['plan'], // typed steps, the scheme contract, rendering (pure)
  ['control'], // control planes: BIRD/etcd config generation (pure, like plan), the etcd client, daemon versions
  ['encap', 'flannel'], // separate processes: the encapsulation daemon, cnlab's flannel agent
  ['schemes'], // one file per scheme: lab → plan
  ['result'], // the on-disk result format: types, read, write, derivation
  ['apply'], // the only side effects on the kernel
  ['runners'], // measurement tools: check, run, parse
  ['measure'], // tests, servers, clients, counters → result
  ['doctor'], // a running lab's live kernel state against its plan: findings, each with a fix
  ['verify'], // probes of what each scheme claims, run on built labs → the result's verify matrix
  ['k8s'], // a Kubernetes cluster's installed CNI, measured through the API
  ['report'], // reads only the result file
  ['cli', 'cli.ts'], // commands
];

/** Named exceptions: [from, to, why]. */
const EXCEPTIONS = [];

const re = (names) => `^src/(${names.map((n) => n.replace('.', '\\.')).join('|')})(/|$)`;
const layerRules = LAYERS.slice(0, -1).map((names, i) => ({
  name: `layer-${names[0].replace('.ts', '')}`,
  comment: `${names.join(', ')} may import only from its own layer or below`,
  severity: 'error',
  from: { path: re(names), pathNot: EXCEPTIONS.map(([from]) => from) },
  to: { path: re(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...EXCEPTIONS.map(([from, to, why]) => ({
      name: `exception-${from}`,
      comment: why,
      severity: 'error',
      from: { path: from },
      to: { path: re(LAYERS.flat()), pathNot: to },
    })),
    {
      name: 'report-reads-the-result-file',
      severity: 'error',
      comment:
        'reports are made from the result file alone: its types, derivation and pure statistics, and the plan and lab types it stores',
      from: { path: '^src/report/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/report/',
          '^src/result/',
          '^src/stats/',
          '^src/plan/types\\.ts$',
          '^src/lab/types\\.ts$',
          '^src/(util|types)/',
          '^src/(errors|version)\\.ts$',
        ],
      },
    },
    { name: 'no-circular', severity: 'error', comment: 'no import cycles', from: { path: '^src' }, to: { circular: true } },
    {
      name: 'unplaced-folder',
      severity: 'error',
      comment: 'every src folder belongs to a layer (add it to LAYERS)',
      from: { path: '^src/', pathNot: re(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    includeOnly: '^src/',
  },
};
