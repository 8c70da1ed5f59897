import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
/** Small fixtures committed with the project (made by the scripts in test/fixtures/). */
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/** `../shared/fixtures` beside the checkout; absent on some clones. */
export const sharedFixturesDir = resolve(repoRoot, '..', 'shared', 'fixtures');
export const haveSharedFixtures = existsSync(sharedFixturesDir);
export const sharedSkipReason = `skipped: ${sharedFixturesDir} is absent (the shared fixtures live beside the checkout)`;
if (!haveSharedFixtures) console.warn(sharedSkipReason);

export function sharedFixture(...parts: string[]): string {
  return join(sharedFixturesDir, ...parts);
}

/**
 * A Python interpreter that can import all of `modules` (numpy, scipy, h5py, tables,
 * tifffile…), or null. Tries `python3` on the PATH first, then Debian's /usr/bin/python3
 * (where `apt-get install python3-h5py python3-tables` puts them).
 */
export function findPython(...modules: string[]): string | null {
  const key = modules.join(',');
  if (pythonCache.has(key)) return pythonCache.get(key)!;
  let found: string | null = null;
  for (const exe of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(exe, ['-c', `import ${['sys', ...modules].join(', ')}`], { stdio: 'ignore' });
      found = exe;
      break;
    } catch {
      /* try the next interpreter */
    }
  }
  pythonCache.set(key, found);
  return found;
}
const pythonCache = new Map<string, string | null>();

/** Run a Python snippet with `python` (from findPython) and return its stdout (throws with stderr on failure). */
export function runPython(python: string, code: string, args: string[] = []): string {
  return execFileSync(python, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}
