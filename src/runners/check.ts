import { LOCAL, type Executor } from '../util/executor.js';
import type { ToolCheck } from './types.js';

/**
 * The check every tool shares: run `<tool> --version`, read the version with the tool's own
 * pattern. Not installed is "unsupported here: needs X (apt-get install PKG)"; never rejects.
 */
export async function checkTool(
  tool: string,
  parseVersion: (text: string) => string | undefined,
  pkg = tool,
  ex: Executor = LOCAL,
): Promise<ToolCheck> {
  try {
    const res = await ex.run([tool, '--version'], { timeoutMs: 10_000 });
    const version = parseVersion(res.stdout + res.stderr);
    if (!version) {
      const got = (res.stderr || res.stdout).trim().split('\n')[0] || `exit ${res.code ?? res.signal}`;
      return { ok: false, tool, reason: `unsupported here: ${tool} --version did not report a version: ${got}` };
    }
    return { ok: true, tool, version };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? `unsupported here: needs ${tool} (apt-get install ${pkg})` : `cannot run ${tool}: ${(e as Error).message}`;
    return { ok: false, tool, reason };
  }
}
