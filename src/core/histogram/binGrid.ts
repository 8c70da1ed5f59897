/**
 * The histogram grid of Locs_RCC (SPEC §4.1 step 1): bin edges per axis from the minimum to
 * max + binsize, step binsize (numpy.arange semantics); an x or y axis with an even number of
 * edges gets one more, so every image dimension is even. With flattenZ (or no z) z is one bin.
 */
import { InputError } from '../errors.js';
import { param } from '../messageParams.js';

export interface BinGrid {
  binSizeNm: number;
  /** Lower edge of the first bin per axis (x, y, z), nm. */
  origin: [number, number, number];
  /** Bins per axis (x, y, z). */
  bins: [number, number, number];
}

/** Lowest and highest value of a column (an InputError naming it when none is finite). */
export function minMax(v: ArrayLike<number>, name: string): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    if (a < lo) lo = a;
    if (a > hi) hi = a;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new InputError(`column ${name} has no finite values`);
  return [lo, hi];
}

/** Number of elements of numpy.arange(start, stop, step). */
function arangeLength(start: number, stop: number, step: number): number {
  return Math.max(0, Math.ceil((stop - start) / step));
}

export function computeBinGrid(x: ArrayLike<number>, y: ArrayLike<number>, z: ArrayLike<number> | undefined, binSizeNm: number, flattenZ: boolean): BinGrid {
  if (!(binSizeNm > 0) || !Number.isFinite(binSizeNm)) throw new RangeError(`${param('binSizeNm')} must be a positive number of nm, got ${binSizeNm}`);
  const axes: [ArrayLike<number>, string][] = [
    [x, 'x'],
    [y, 'y'],
  ];
  const origin: [number, number, number] = [0, 0, 0];
  const bins: [number, number, number] = [1, 1, 1];
  axes.forEach(([v, name], a) => {
    const [lo, hi] = minMax(v, name);
    let edges = arangeLength(lo, hi + binSizeNm, binSizeNm);
    if (edges % 2 === 0) edges += 1;
    origin[a] = lo;
    bins[a] = edges - 1;
  });
  if (z && !flattenZ) {
    const [lo, hi] = minMax(z, 'z');
    origin[2] = lo;
    bins[2] = Math.max(1, arangeLength(lo, hi + binSizeNm, binSizeNm) - 1);
  }
  return { binSizeNm, origin, bins };
}

/**
 * Add the localizations [from, to) of (x, y, z) to `out`, a grid of shape (nzOut, nyOut, nxOut)
 * (x fastest) at least as large as `grid.bins`; counts land in the corner [0, bins).
 * Values outside the grid (there are none when the grid came from the same data) are ignored.
 */
export function histogramInto(
  grid: BinGrid,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  z: ArrayLike<number> | undefined,
  from: number,
  to: number,
  out: Float32Array,
  nxOut: number,
  nyOut: number,
): void {
  const [bx, by, bz] = grid.bins;
  const [ox, oy, oz] = grid.origin;
  const inv = 1 / grid.binSizeNm;
  const useZ = bz > 1 && z !== undefined;
  for (let i = from; i < to; i++) {
    const ix = Math.floor((x[i] - ox) * inv);
    const iy = Math.floor((y[i] - oy) * inv);
    const iz = useZ ? Math.floor((z[i] - oz) * inv) : 0;
    if (ix < 0 || ix >= bx || iy < 0 || iy >= by || iz < 0 || iz >= bz) continue;
    out[(iz * nyOut + iy) * nxOut + ix] += 1;
  }
}

/**
 * The localizations [from, to) as bin indices with a weight each (the product of the per-axis
 * windows at their bin, e.g. Tukey; null = 1): histogramInto's content as points. Points
 * outside the grid are left out, as there.
 */
export function binPoints(
  grid: BinGrid,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  z: ArrayLike<number> | undefined,
  from: number,
  to: number,
  windows: readonly (ArrayLike<number> | null)[] = [],
): { ix: Int32Array; iy: Int32Array; iz: Int32Array; w: Float32Array } {
  const [bx, by, bz] = grid.bins;
  const [ox, oy, oz] = grid.origin;
  const inv = 1 / grid.binSizeNm;
  const useZ = bz > 1 && z !== undefined;
  const n = Math.max(0, to - from);
  const ix = new Int32Array(n);
  const iy = new Int32Array(n);
  const iz = new Int32Array(n);
  const w = new Float32Array(n);
  const [wx, wy, wz] = windows;
  let k = 0;
  for (let i = from; i < to; i++) {
    const px = Math.floor((x[i] - ox) * inv);
    const py = Math.floor((y[i] - oy) * inv);
    const pz = useZ ? Math.floor((z[i] - oz) * inv) : 0;
    if (px < 0 || px >= bx || py < 0 || py >= by || pz < 0 || pz >= bz) continue;
    ix[k] = px;
    iy[k] = py;
    iz[k] = pz;
    w[k] = (wx ? wx[px] : 1) * (wy ? wy[py] : 1) * (wz ? wz[pz] : 1);
    k++;
  }
  return { ix: ix.subarray(0, k), iy: iy.subarray(0, k), iz: iz.subarray(0, k), w: w.subarray(0, k) };
}
