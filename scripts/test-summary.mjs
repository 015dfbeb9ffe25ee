// Prints vitest's totals as one plain line ("tests: N passed, N failed, N skipped") from its JSON report.
import { readFileSync } from 'node:fs';

try {
  const r = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
} catch (e) {
  console.log(`tests: no report (${e.message})`);
}
