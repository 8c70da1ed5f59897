import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers/fixtures.js';

/** The package's entry points (npm test builds dist/ first), as `import 'ccdrift'` resolves them. */
describe('package exports', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  it('every export and the bin point at built files', () => {
    const targets = [...Object.values(pkg.exports as Record<string, string>), pkg.bin.ccdrift];
    for (const t of targets) expect(existsSync(join(repoRoot, t)), t).toBe(true);
  });
  it("'ccdrift' and 'ccdrift/core' expose the library API", async () => {
    const main = await import(pathToFileURL(join(repoRoot, pkg.exports['.'])).href);
    const core = await import(pathToFileURL(join(repoRoot, pkg.exports['./core'])).href);
    for (const name of ['readTable', 'writeTable', 'readDriftNpz', 'createWorkerExecutor', 'estimateDriftFromLocs', 'parseRecipe', 'VERSION']) {
      expect(typeof main[name], name).not.toBe('undefined');
    }
    for (const name of ['estimateDriftFromLocs', 'estimateDriftFromImages', 'createDriftInterpolator', 'applyDriftToTable', 'simulateLocalizations']) {
      expect(typeof core[name], name).toBe('function');
    }
    expect(main.VERSION).toBe(pkg.version);
  });
});
