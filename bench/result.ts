import type { Topology } from '../src/lab/types.js';
import { collectEnvironment } from '../src/measure/environment.js';
import { RESULT_FORMAT, RESULT_VERSION, type ResultFile } from '../src/result/types.js';

/** An empty result file for a bench's measurements (never written: the bench prints its figures). */
export async function benchResult(topology: Topology, options: ResultFile['options']): Promise<ResultFile> {
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    cnlab: { version: 'bench', argv: [] },
    createdAt: '',
    updatedAt: '',
    complete: false,
    environment: await collectEnvironment(),
    topology,
    options,
    schemes: [],
  };
}
