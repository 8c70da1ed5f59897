/**
 * Camera offset + background of an image, estimated robustly so it can be removed before
 * registration. Why it matters: a constant pedestal c under the structure, multiplied by the
 * Tukey window w, adds c²·(w ⋆ w) to every cross-correlation — a broad hump centred on zero
 * shift that, for camera data (offset ~100 ADU, tens of photons of background), is orders of
 * magnitude above the structure's own peak and pins every pair at or near zero shift.
 *
 * The estimate is a smooth map, not one number, so uneven illumination (a laser's Gaussian
 * profile, fixed to the camera and therefore correlating at zero shift too) goes with it:
 * the plane is cut into tiles, each tile's background is a sigma-clipped mean (iterated
 * median ± 3·MAD clipping, as astronomy's background estimators: structure pixels above the
 * background fall outside the clip, symmetric noise keeps the mean unbiased — a plain median
 * of integer counts is quantized to whole counts), and the map interpolates bilinearly
 * between tile centres. Values below the map stay negative after subtraction: clipping them
 * at zero would turn zero-mean noise into a new pedestal.
 *
 * Layout (core/types.ts): plane[y * width + x].
 */

/** Tiles are about this many pixels on a side… */
export const BACKGROUND_TILE_PX = 32;
/** …but a plane gets at least this many tiles per side, so illumination gradients are followed. */
const MIN_TILES_PER_SIDE = 4;
/** Tiles of fewer pixels than this are merged (tiny frames get one tile per side). */
const MIN_TILE_PX = 8;
/** Clipping half-width in robust standard deviations, and the number of clipping rounds. */
const CLIP_SIGMAS = 3;
const CLIP_ROUNDS = 4;
/** MAD → standard deviation for Gaussian noise. */
const MAD_TO_SD = 1.4826;

/** Tile grid along one axis of `length` pixels: boundaries [0, …, length]. */
function tileEdges(length: number): Int32Array {
  const byTarget = Math.round(length / BACKGROUND_TILE_PX);
  const maxTiles = Math.max(1, Math.floor(length / MIN_TILE_PX));
  const tiles = Math.min(maxTiles, Math.max(MIN_TILES_PER_SIDE, byTarget));
  const edges = new Int32Array(tiles + 1);
  for (let i = 0; i <= tiles; i++) edges[i] = Math.round((i * length) / tiles);
  return edges;
}

/** The k-th smallest of a[0 … n) (0-based), by quickselect; reorders a. */
export function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Sigma-clipped mean of values[0 … n): start from the median, keep values within
 * ±CLIP_SIGMAS robust sd (1.4826·MAD of the kept values), iterate. `scratch` (length ≥ n) is
 * overwritten. Returns the mean and the robust sd of the kept values.
 */
export function sigmaClippedMean(values: ArrayLike<number>, n: number, scratch: Float64Array): { mean: number; sd: number } {
  for (let i = 0; i < n; i++) scratch[i] = values[i];
  let centre = selectKth(scratch, n, n >> 1);
  for (let i = 0; i < n; i++) scratch[i] = Math.abs(values[i] - centre);
  let sd = MAD_TO_SD * selectKth(scratch, n, n >> 1);
  let mean = centre;
  for (let round = 0; round < CLIP_ROUNDS; round++) {
    const lo = centre - CLIP_SIGMAS * sd;
    const hi = centre + CLIP_SIGMAS * sd;
    let sum = 0;
    let sum2 = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v >= lo && v <= hi) {
        sum += v;
        sum2 += v * v;
        count++;
      }
    }
    if (count === 0) break;
    mean = sum / count;
    const next = Math.sqrt(Math.max(0, sum2 / count - mean * mean));
    // Integer counts with a MAD of 0 (e.g. a flat offset) give sd 0: keep the exact values.
    const converged = Math.abs(mean - centre) <= 1e-3 * (sd || 1) && Math.abs(next - sd) <= 1e-3 * (sd || 1);
    centre = mean;
    sd = sd === 0 ? 0 : next;
    if (converged) break;
  }
  return { mean, sd };
}

export interface BackgroundEstimate {
  /** The background at every pixel (same layout as the plane). */
  map: Float32Array;
  /** Median of the tile backgrounds: the number to report. */
  level: number;
  /** Median of the tiles' robust noise sd. */
  noiseSd: number;
}

/** Background map of one plane (width × height, x fastest). */
export function estimateBackground(plane: ArrayLike<number>, width: number, height: number): BackgroundEstimate {
  const ex = tileEdges(width);
  const ey = tileEdges(height);
  const tx = ex.length - 1;
  const ty = ey.length - 1;
  let maxTile = 0;
  for (let i = 0; i < tx; i++) for (let j = 0; j < ty; j++) maxTile = Math.max(maxTile, (ex[i + 1] - ex[i]) * (ey[j + 1] - ey[j]));
  const values = new Float64Array(maxTile);
  const scratch = new Float64Array(maxTile);
  const level = new Float64Array(tx * ty);
  const noise = new Float64Array(tx * ty);
  for (let j = 0; j < ty; j++) {
    for (let i = 0; i < tx; i++) {
      let n = 0;
      for (let y = ey[j]; y < ey[j + 1]; y++) for (let x = ex[i]; x < ex[i + 1]; x++) values[n++] = plane[y * width + x];
      const s = sigmaClippedMean(values, n, scratch);
      level[j * tx + i] = s.mean;
      noise[j * tx + i] = s.sd;
    }
  }
  // Bilinear between tile centres, constant beyond the outer centres.
  const cx = Float64Array.from({ length: tx }, (_, i) => (ex[i] + ex[i + 1] - 1) / 2);
  const cy = Float64Array.from({ length: ty }, (_, j) => (ey[j] + ey[j + 1] - 1) / 2);
  const ix0 = new Int32Array(width);
  const fx = new Float64Array(width);
  for (let x = 0; x < width; x++) [ix0[x], fx[x]] = bracket(cx, x);
  const map = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const [j0, gy] = bracket(cy, y);
    const j1 = Math.min(ty - 1, j0 + 1);
    for (let x = 0; x < width; x++) {
      const i0 = ix0[x];
      const i1 = Math.min(tx - 1, i0 + 1);
      const gx = fx[x];
      const top = level[j0 * tx + i0] * (1 - gx) + level[j0 * tx + i1] * gx;
      const bottom = level[j1 * tx + i0] * (1 - gx) + level[j1 * tx + i1] * gx;
      map[y * width + x] = top * (1 - gy) + bottom * gy;
    }
  }
  return { map, level: median(level), noiseSd: median(noise) };
}

/** Index of the centre at or below p and the fraction towards the next (clamped at the ends). */
function bracket(centres: Float64Array, p: number): [number, number] {
  const n = centres.length;
  if (n === 1 || p <= centres[0]) return [0, 0];
  if (p >= centres[n - 1]) return [n - 1, 0];
  let k = 0;
  while (k < n - 2 && centres[k + 1] <= p) k++;
  return [k, (p - centres[k]) / (centres[k + 1] - centres[k])];
}

function median(v: Float64Array): number {
  const a = Float64Array.from(v);
  return selectKth(a, a.length, a.length >> 1);
}
