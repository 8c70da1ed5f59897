import { describe, expect, it } from 'vitest';
import { DensityGrid, OwnCells } from '../../../src/core/drift/densityGrid.js';

/** Float32 sums over a few dozen kernels: agreement to this absolute error. */
const ATOL = 1e-6;

function gaussian(sigmaBins: number, cutoffSd = 3): Float64Array {
  const r = Math.max(1, Math.ceil(cutoffSd * sigmaBins));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-0.5 * (i / sigmaBins) ** 2);
  return k.map((v) => v / sum);
}

/** The blurred histogram written out directly: every point adds its kernel, clipped at the edges. */
function naiveDensity(grid: DensityGrid, cells: Int32Array, kx: Float64Array, kz: Float64Array | null): Float64Array {
  const out = new Float64Array(grid.nx * grid.ny * grid.nz);
  const r = (kx.length - 1) / 2;
  const rz = kz ? (kz.length - 1) / 2 : 0;
  for (const c of cells) {
    if (c < 0) continue;
    const ix = c % grid.nx;
    const iy = Math.floor(c / grid.nx) % grid.ny;
    const iz = Math.floor(c / (grid.nx * grid.ny));
    for (let dz = -rz; dz <= rz; dz++) {
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const x = ix + dx;
          const y = iy + dy;
          const z = iz + dz;
          if (x < 0 || y < 0 || z < 0 || x >= grid.nx || y >= grid.ny || z >= grid.nz) continue;
          out[(z * grid.ny + y) * grid.nx + x] += kx[dx + r] * kx[dy + r] * (kz ? kz[dz + rz] : 1);
        }
      }
    }
  }
  return out;
}

function randomCells(grid: DensityGrid, count: number, seed: number): Int32Array {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cells = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    // Some points at the very edges, where the kernel is clipped, and one outside (−1).
    const x = i % 7 === 0 ? 0 : Math.floor(next() * grid.nx);
    const y = i % 11 === 0 ? grid.ny - 1 : Math.floor(next() * grid.ny);
    const z = Math.floor(next() * grid.nz);
    cells[i] = i === 5 ? -1 : (z * grid.ny + y) * grid.nx + x;
  }
  return cells;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('DensityGrid', () => {
  it('builds the Gaussian-blurred histogram, kernels clipped at the edges (2D)', () => {
    const grid = new DensityGrid({ binNm: 10, sigmaNm: 12, extent: [0, 300, 0, 200, 0, 0], maxCells: 1e6 });
    const cells = randomCells(grid, 60, 3);
    grid.build(cells);
    const expected = naiveDensity(grid, cells, gaussian(1.2), null);
    expect(maxAbsDiff(grid.data, expected)).toBeLessThan(ATOL);
  });

  it('builds the blurred histogram in 3D', () => {
    const grid = new DensityGrid({ binNm: 10, sigmaNm: 8, binZNm: 25, sigmaZNm: 30, extent: [0, 150, 0, 120, -100, 100], maxCells: 1e6, cutoffSd: 2.5 });
    const cells = randomCells(grid, 40, 9);
    grid.build(cells);
    const expected = naiveDensity(grid, cells, gaussian(0.8, 2.5), gaussian(1.2, 2.5));
    expect(maxAbsDiff(grid.data, expected)).toBeLessThan(ATOL);
  });

  it('gives the same sums by its separable blur (many points) as by kernels per occupied cell (few)', () => {
    // 1400 cells: 60 points are splatted cell by cell, 4000 take the separable blur over the grid.
    for (const count of [60, 4000]) {
      const grid = new DensityGrid({ binNm: 10, sigmaNm: 12, extent: [0, 300, 0, 200, 0, 0], maxCells: 1e6 });
      const cells = randomCells(grid, count, 7);
      grid.build(cells);
      const expected = naiveDensity(grid, cells, gaussian(1.2), null);
      expect(maxAbsDiff(grid.data, expected)).toBeLessThan(ATOL * Math.sqrt(count));
    }
    for (const count of [40, 20000]) {
      const grid = new DensityGrid({ binNm: 10, sigmaNm: 8, binZNm: 25, sigmaZNm: 30, extent: [0, 150, 0, 120, -100, 100], maxCells: 1e6, cutoffSd: 2.5 });
      const cells = randomCells(grid, count, 11);
      grid.build(cells);
      const expected = naiveDensity(grid, cells, gaussian(0.8, 2.5), gaussian(1.2, 2.5));
      expect(maxAbsDiff(grid.data, expected)).toBeLessThan(ATOL * Math.sqrt(count));
    }
  });

  it('clears what was splatted before a build (a new grid is not cleared, a written one is)', () => {
    const grid = new DensityGrid({ binNm: 10, sigmaNm: 12, extent: [0, 300, 0, 200, 0, 0], maxCells: 1e6 });
    const cells = randomCells(grid, 60, 13);
    grid.splat(cells[0], +1);
    grid.splat(cells[1], +1);
    grid.build(cells);
    expect(maxAbsDiff(grid.data, naiveDensity(grid, cells, gaussian(1.2), null))).toBeLessThan(ATOL);
  });

  it('takes one localization out and puts it back exactly (leave-one-out)', () => {
    const grid = new DensityGrid({ binNm: 10, sigmaNm: 10, extent: [0, 200, 0, 200, 0, 0], maxCells: 1e6 });
    const cells = randomCells(grid, 30, 5);
    grid.build(cells);
    const before = Float32Array.from(grid.data);
    grid.splat(cells[3], -1);
    const without = naiveDensity(
      grid,
      cells.filter((_, i) => i !== 3),
      gaussian(1),
      null,
    );
    expect(maxAbsDiff(grid.data, without)).toBeLessThan(ATOL);
    grid.splat(cells[3], +1);
    expect(maxAbsDiff(grid.data, before)).toBeLessThan(ATOL);
  });

  it("leaves a segment's own share out of its reads analytically, as taking it out of the grid would (2D and 3D)", () => {
    const cases = [
      new DensityGrid({ binNm: 10, sigmaNm: 10, extent: [0, 200, 0, 200, 0, 0], maxCells: 1e6 }),
      new DensityGrid({ binNm: 10, sigmaNm: 8, binZNm: 25, sigmaZNm: 30, extent: [0, 150, 0, 120, -100, 100], maxCells: 1e6, cutoffSd: 2.5 }),
    ];
    for (const grid of cases) {
      // Points away from the edges (the reads need their 4×4 patch inside the grid).
      let s = 17;
      const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const pts = Array.from({ length: 50 }, () => [
        40 + next() * (grid.nx * 10 - 200),
        40 + next() * (grid.ny * 10 - 200),
        grid.z0 + 90 + next() * (grid.nz * 25 - 250),
      ]);
      // Several of the segment's points in the same neighbourhood, so their shares overlap.
      for (let i = 20; i < 26; i++) pts[i] = [pts[20][0] + i - 20, pts[20][1] + 2 * (i - 20), pts[20][2]];
      const cells = Int32Array.from(pts, ([x, y, z]) => grid.cellOf(x, y, z));
      grid.build(cells);
      const [from, to] = [18, 30];
      const own = new OwnCells().set(grid, cells, from, to);
      // Reads near each point (within the neighbour lists' reach) and farther (gathered anew).
      for (const [dx, dy, dz] of [
        [3.3, -7.1, 4],
        [35, -42, 30],
      ]) {
        const analytic = new Float64Array(9);
        const analyticZ = new Float64Array(3);
        const gradA = new Float64Array(5);
        for (let i = from; i < to; i++) {
          own.select(i - from, dx / grid.binNm, dy / grid.binNm, grid.threeD ? dz / grid.binZNm : 0);
          grid.addLateral3x3(pts[i][0] + dx, pts[i][1] + dy, pts[i][2] + dz, analytic, gradA, own);
          if (grid.threeD) grid.addAxial3(pts[i][0] + dx, pts[i][1] + dy, pts[i][2] + dz, analyticZ, undefined, own);
        }
        for (let i = from; i < to; i++) grid.splat(cells[i], -1);
        const direct = new Float64Array(9);
        const directZ = new Float64Array(3);
        const gradD = new Float64Array(5);
        for (let i = from; i < to; i++) {
          grid.addLateral3x3(pts[i][0] + dx, pts[i][1] + dy, pts[i][2] + dz, direct, gradD);
          if (grid.threeD) grid.addAxial3(pts[i][0] + dx, pts[i][1] + dy, pts[i][2] + dz, directZ);
        }
        for (let i = from; i < to; i++) grid.splat(cells[i], +1);
        expect(maxAbsDiff(analytic, direct)).toBeLessThan(ATOL);
        expect(maxAbsDiff(gradA, gradD)).toBeLessThan(ATOL);
        expect(maxAbsDiff(analyticZ, directZ)).toBeLessThan(ATOL);
      }
      const direct = new Float64Array(9);
      for (let i = from; i < to; i++) grid.splat(cells[i], -1);
      for (let i = from; i < to; i++) grid.addLateral3x3(pts[i][0] + 3.3, pts[i][1] - 7.1, pts[i][2] + 4, direct);
      // The own share is not nothing: without it the reads differ.
      const withOwn = new Float64Array(9);
      for (let i = from; i < to; i++) grid.splat(cells[i], +1);
      for (let i = from; i < to; i++) grid.addLateral3x3(pts[i][0] + 3.3, pts[i][1] - 7.1, pts[i][2] + 4, withOwn);
      expect(maxAbsDiff(withOwn, direct)).toBeGreaterThan(100 * ATOL);
    }
  });
});
