import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (npm test builds first) as a user would. */
/** Run the CLI in `cwd`; `env` adds to (or overrides) this process's environment, e.g. a private TMPDIR. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ccdrift.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
