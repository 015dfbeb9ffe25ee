/**
 * `cnlab doctor`'s findings on a lab `cnlab run` found failing, taken before its teardown (issue
 * 14): most likely cause first, each with its evidence and the commands that fix it.
 */
export interface DoctorFindingRecord {
  check: string;
  what: string;
  evidence: string;
  fix: string[][];
}

export interface DoctorRecord {
  /** Why doctor ran, e.g. "2 of 6 test runs failed". */
  trigger: string;
  findings: DoctorFindingRecord[];
  /** Doctor itself could not run (its one-line error). */
  error?: string;
}
