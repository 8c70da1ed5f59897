import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/fixtures.js';

/**
 * The README's "As a library" snippet, run as it is (plain JavaScript, `import … from 'ccdrift'`)
 * on a small simulated cell.hdf, with `ccdrift` resolved to this package (npm test builds dist/).
 */
const dir = mkdtempSync(join(tmpdir(), 'ccdrift-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function librarySnippet(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## As a library'));
  const m = /```(?:ts|js|javascript)\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no code block under "## As a library"');
  return m[1];
}

describe('README library snippet', () => {
  it('runs as plain JavaScript and writes the corrected table', { timeout: 300_000 }, () => {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(repoRoot, join(dir, 'node_modules', 'ccdrift'), 'dir');
    const sim = runCli(['simulate', '-o', 'cell.hdf', '--frames', '2000', '--locs', '8000', '--seed', '9', '--field', '6000', '-q'], dir);
    expect(sim.code, sim.stderr).toBe(0);
    writeFileSync(join(dir, 'snippet.mjs'), librarySnippet());
    const r = spawnSync(process.execPath, ['snippet.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'cell_corrected.hdf'))).toBe(true);
  });
});
