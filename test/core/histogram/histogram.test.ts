import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tukeyWindow } from '../../../src/core/histogram/tukey.js';
import { computeBinGrid, histogramInto } from '../../../src/core/histogram/binGrid.js';
import { expectClose } from '../../helpers/expectClose.js';
import { fixturesDir } from '../../helpers/fixtures.js';

const TUKEY_ATOL = 1e-14;

describe('tukeyWindow', () => {
  const fx = JSON.parse(readFileSync(join(fixturesDir, 'core', 'tukey.json'), 'utf8'));
  for (const c of fx.cases) {
    it(`equals scipy.signal.windows.tukey(${c.m}, ${c.alpha})`, () => {
      expectClose(tukeyWindow(c.m, c.alpha), c.w, { atol: TUKEY_ATOL });
    });
  }
  it('rejects a shape outside [0, 1]', () => {
    expect(() => tukeyWindow(10, 1.5)).toThrow(/`tukeySize` must be between 0 and 1, got 1.5/);
  });
});

describe('computeBinGrid / histogramInto', () => {
  const fx = JSON.parse(readFileSync(join(fixturesDir, 'core', 'histogram.json'), 'utf8'));
  it('reproduces numpy.arange edges (with the even-edge rule) and histogramdd counts', () => {
    const x = Float64Array.from(fx.x);
    const y = Float64Array.from(fx.y);
    const z = Float64Array.from(fx.z);
    const grid = computeBinGrid(x, y, z, fx.binsize, false);
    expect(grid.bins).toEqual(fx.nEdges.map((e: number) => e - 1));
    const [bx, by, bz] = grid.bins;
    const out = new Float32Array(bx * by * bz);
    histogramInto(grid, x, y, z, 0, x.length, out, bx, by);
    // numpy's C-order (ix, iy, iz) → our layout (iz, iy, ix).
    const expected = new Float32Array(bx * by * bz);
    for (const [flat, count] of fx.nonzero) {
      const iz = flat % bz;
      const iy = Math.floor(flat / bz) % by;
      const ix = Math.floor(flat / (bz * by));
      expected[(iz * by + iy) * bx + ix] = count;
    }
    expectClose(out, expected, { atol: 0 });
    expect(out.reduce((a, b) => a + b, 0)).toBe(x.length);
  });

  it('makes every x/y dimension even and uses one z bin when flattened', () => {
    const grid = computeBinGrid([0, 100], [0, 70], [0, 500], 10, true);
    expect(grid.bins[0] % 2).toBe(0);
    expect(grid.bins[1] % 2).toBe(0);
    expect(grid.bins[2]).toBe(1);
  });
});
