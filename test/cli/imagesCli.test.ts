import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDriftNpz } from '../../src/io/npz.js';
import { runCli } from '../helpers/cli.js';
import { rmseAfterOffset } from '../helpers/expectClose.js';
import { findPython, fixturesDir, haveSharedFixtures, runPython, sharedFixture } from '../helpers/fixtures.js';

/** Issue 4's bound for a simulated 20 nm-pixel stack. */
const STACK_RMSE_NM = 2;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-img-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ccdrift images / apply on stacks', () => {
  it(`measures a simulated 20 nm-pixel stack's drift within ${STACK_RMSE_NM} nm and writes a corrected TIFF`, async () => {
    expect(runCli(['simulate', '--images', '-o', 'stack.tif', '--frames', '30', '--pixel', '20'], dir).code).toBe(0);
    const r = runCli(
      ['images', 'stack.tif', '-o', 'corr.tif', '--drift-out', 'drift.npz', '--plot', 'drift.png', '--debug-cor-file', 'cor.tif', '--workers', '2'],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['corr.tif', 'drift.npz', 'drift.png', 'cor.tif']) expect(existsSync(join(dir, f)), f).toBe(true);
    const est = await readDriftNpz(join(dir, 'drift.npz'));
    const truth = await readDriftNpz(join(dir, 'stack.truth.npz'));
    for (const a of ['x', 'y'] as const)
      expect(
        rmseAfterOffset(
          est[a],
          Array.from(est.t, (t) => truth[a][t]),
        ),
      ).toBeLessThan(STACK_RMSE_NM);
  });

  it('apply shifts a stack with a drift file; the corrected stack re-measures flat', async () => {
    // The truth is sampled at every frame: interpolate it exactly (s = 0).
    const r = runCli(['apply', 'stack.tif', '--drift', 'stack.truth.npz', '--smoothing', '0', '-o', 'applied.tif'], dir);
    expect(r.code, r.stderr).toBe(0);
    const again = runCli(['images', 'applied.tif', '-o', 'again.tif', '--drift-out', 'again.npz'], dir);
    expect(again.code, again.stderr).toBe(0);
    const d = await readDriftNpz(join(dir, 'again.npz'));
    for (const a of ['x', 'y'] as const) expect(Math.max(...d[a].map(Math.abs))).toBeLessThan(2);
  });

  it('on a camera stack, info shows the pedestal and images says what background it removed', () => {
    expect(runCli(['simulate', '--images', '-o', 'camera.tif', '--frames', '12', '--pixel', '100'], dir).code).toBe(0);
    const info = runCli(['info', 'camera.tif'], dir);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/pixel statistics \(counts\) of 8 of 12 frames/);
    expect(info.stdout).toMatch(/frame +min +p1 +median +p99\.9 +max +background +noise sd/);
    // Offset 100 + 10 photons of background in the simulator's camera defaults.
    expect(info.stdout).toMatch(/offset \+ background: ~11\d(\.\d+)? counts under the structure/);
    const r = runCli(['images', 'camera.tif', '-o', 'camera_corr.tif'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Image_Pre_Clip&Filter: background auto: removed a smooth background map of median 11\d/);
  });

  it('a stack where a table is expected names the right command', () => {
    const r = runCli(['locs', 'stack.tif', '-o', 'x.csv'], dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/stack\.tif/);
    expect(r.stderr).toMatch(/use `ccdrift images`/);
  });

  it.skipIf(!haveSharedFixtures)("the original plugin's example .h5 runs end to end", () => {
    const r = runCli(
      [
        'images',
        sharedFixture('seed-example', 'wormlike_simulated_images_with_drift.h5'),
        '-o',
        'seed.h5',
        '--median-filter-size',
        '-1',
        '--corr-window',
        '-1',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const info = runCli(['info', 'seed.h5'], dir);
    expect(info.stdout).toMatch(/\(10, 448, 448\)/);
  });
});

describe('ccdrift run on a stack without calibration', () => {
  const python = findPython('numpy', 'tifffile');
  const dir = mkdtempSync(join(tmpdir(), 'ccdrift-run-voxel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!python)(
    `is told --voxel-size, and with it gives the calibrated stack's result${python ? '' : ' (skipped: python3 with numpy and tifffile is absent)'}`,
    async () => {
      expect(runCli(['simulate', '--images', '-o', 'stack.tif', '--frames', '12', '--pixel', '100', '-q'], dir).code).toBe(0);
      // The same pixels without the ImageJ calibration (a plain TIFF, as many cameras save them).
      runPython(python!, 'import sys, tifffile; tifffile.imwrite(sys.argv[2], tifffile.imread(sys.argv[1]))', [join(dir, 'stack.tif'), join(dir, 'plain.tif')]);
      const recipe = join(fixturesDir, 'recipes', 'correct_drift_images.yaml');
      const refused = runCli(['run', recipe, 'plain.tif', '-o', 'none', '-q'], dir);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('states no pixel size');
      expect(refused.stderr).toContain('--voxel-size 100,100,100');
      expect(refused.stderr).not.toContain('voxelSizeNm');
      const given = runCli(['run', recipe, 'plain.tif', '-o', 'given', '--voxel-size', '100,100,100', '-q', '--save', 'drift_raw=given.npz'], dir);
      expect(given.code, given.stderr).toBe(0);
      const calibrated = runCli(['run', recipe, 'stack.tif', '-o', 'calibrated', '-q', '--save', 'drift_raw=calibrated.npz'], dir);
      expect(calibrated.code, calibrated.stderr).toBe(0);
      const a = await readDriftNpz(join(dir, 'given.npz'));
      const b = await readDriftNpz(join(dir, 'calibrated.npz'));
      expect(a.t.length).toBeGreaterThan(1);
      for (const k of ['t', 'x', 'y'] as const) expect(Array.from(a[k]), k).toEqual(Array.from(b[k]));
      // A table is not a stack.
      expect(runCli(['simulate', '-o', 'locs.csv', '--frames', '3000', '--locs', '6000', '-q'], dir).code).toBe(0);
      const table = runCli(['run', join(fixturesDir, 'recipes', 'correct_drift_locs.yaml'), 'locs.csv', '--voxel-size', '100,100,100', '-q'], dir);
      expect(table.code).toBe(2);
      expect(table.stderr).toContain('--voxel-size is for image stacks');
    },
  );
});
