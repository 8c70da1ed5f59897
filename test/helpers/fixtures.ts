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
export const sharedSkipReason =
  `skipped: ${sharedFixturesDir} is absent (the shared fixtures live beside the checkout)`;
if (!haveSharedFixtures) console.warn(sharedSkipReason);

export function sharedFixture(...parts: string[]): string {
  return join(sharedFixturesDir, ...parts);
}

/** True when `python3 -c "import <modules>"` works, for tests that check files with numpy/h5py/tables. */
export function havePython(...modules: string[]): boolean {
  try {
    execFileSync('python3', ['-c', `import ${['sys', ...modules].join(', ')}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Run a python3 snippet and return its stdout (throws with stderr on failure). */
export function runPython(code: string, args: string[] = []): string {
  return execFileSync('python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}
