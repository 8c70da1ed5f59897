/**
 * Image_Pre_Clip&Filter for one frame (SPEC §4.5): median filter, intensity clipping, offset
 * removal and a Tukey edge taper, so that cross-correlation sees the structure and not the
 * camera offset, hot pixels or the frame's edges. Computed in float whatever the input type
 * (the original crashed on uint16 camera data).
 *
 * Layout (core/types.ts): frame[(z * height + y) * width + x].
 */
import { UsageError } from '../errors.js';
import { checkTukeySize } from '../parameters.js';
import { tukeyWindow } from '../histogram/tukey.js';
import type { NumericArray } from '../types.js';
import { estimateBackground, selectKth } from './background.js';
import { param } from '../messageParams.js';

/**
 * How the camera offset and background are removed before the window: 'auto' estimates a
 * smooth background map per frame (per plane of a volume) and subtracts it (./background.ts);
 * 'none' leaves the frame as the clipping made it (the original plugin).
 */
export type BackgroundMode = 'auto' | 'none';
export const BACKGROUND_MODES: readonly BackgroundMode[] = ['auto', 'none'];

/**
 * Volumes with fewer planes than this are "thin" (typical z-stacks of 10–30 planes): they are
 * not tapered along z — a taper over a few planes weights each plane so differently that the
 * structure's z position, not its shape, dominates the correlation, biasing z shifts towards
 * zero — and Image RCC zero-pads them along z instead (registration/registrar.ts).
 */
export const THIN_VOLUME_PLANES = 48;

/** Is a volume of `depth` planes thin (see THIN_VOLUME_PLANES)? */
export function isThinVolume(depth: number): boolean {
  return depth > 1 && depth < THIN_VOLUME_PLANES;
}

export interface ClipFilterParams {
  /**
   * Side of the square median filter box in pixels, applied in x–y to every z plane, edges
   * replicated (scipy.ndimage.median_filter(mode='nearest')); ≤ 1 turns it off.
   * SPEC default 3 (`median_filter_size`); the recipe module and CLI default to 1 (off, issue 8).
   */
  medianFilterSize: number;
  /** Values ≤ this become `clipToLower`. SPEC default 0 (`threshold_lower`). */
  thresholdLower: number;
  /** Replacement for values ≤ `thresholdLower`; also subtracted from every pixel. SPEC default 0 (`clip_to_lower`). */
  clipToLower: number;
  /** Values ≥ this become `clipToUpper` (tested before the lower threshold). SPEC default 65535 (`threshold_upper`). */
  thresholdUpper: number;
  /** Replacement for values ≥ `thresholdUpper`. SPEC default 0 (`clip_to_upper`). */
  clipToUpper: number;
  /**
   * Shape of the Tukey window multiplied in along x and y (and z for volumes of at least
   * THIN_VOLUME_PLANES planes): 0 = none, 1 = Hann. SPEC default 0.25 (`tukey_size`).
   */
  tukeySize: number;
  /** Offset/background removal after clipping, before the window. @default 'auto' */
  background?: BackgroundMode;
  /**
   * With background 'auto': replace hot pixels (suppressHotPixels). Meant for camera data;
   * prefilterStack turns it on for integer stacks. @default whether `frame` is an integer array
   */
  hotPixels?: boolean;
}

/**
 * Validate the parameters. Errors name the option (`medianFilterSize`) and carry it as `param`,
 * so a front end shows it as its user typed it (core/errors.ts).
 */
export function validateClipFilterParams(p: ClipFilterParams): void {
  for (const [name, v] of [
    ['medianFilterSize', p.medianFilterSize],
    ['thresholdLower', p.thresholdLower],
    ['clipToLower', p.clipToLower],
    ['thresholdUpper', p.thresholdUpper],
    ['clipToUpper', p.clipToUpper],
    ['tukeySize', p.tukeySize],
  ] as const) {
    if (typeof v !== 'number') throw new TypeError(`${param(name)} must be a number, got ${String(v)}`);
    if (Number.isNaN(v)) throw new UsageError(`${param(name)} must be a number, got NaN`, { param: name });
  }
  if (p.medianFilterSize > 1 && !Number.isInteger(p.medianFilterSize)) {
    throw new UsageError(`${param('medianFilterSize')} must be a whole number of pixels (≤ 0 = off), got ${p.medianFilterSize}`, { param: 'medianFilterSize' });
  }
  checkTukeySize(p.tukeySize);
  if (p.background !== undefined && !BACKGROUND_MODES.includes(p.background)) {
    throw new UsageError(`${param('background')} must be one of ${BACKGROUND_MODES.map((m) => `'${m}'`).join(', ')}, got '${String(p.background)}'`, {
      param: 'background',
    });
  }
}

/**
 * A hot pixel stands this many background noise sd above the second-brightest of its 8
 * neighbours (the second, so that two hot pixels side by side are both caught)…
 */
export const HOT_PIXEL_SDS = 8;
/**
 * …and this many times as far above the background as that neighbour. A PSF of σ ≥ 0.75 px
 * never is (its peak is at most 2.4 × its second-brightest neighbour above the background),
 * so only spikes of one or two pixels — hot pixels, cosmic rays — are caught, never an emitter.
 */
export const HOT_PIXEL_NEIGHBOUR_RATIO = 2.5;

/**
 * Replace hot pixels of a camera plane (in place) by the median of their neighbours. Hot
 * pixels sit still on the camera, so left in they correlate best at zero shift; the median
 * filter removes them too, but blurs the structure and costs precision (issue 8). Only for
 * camera (integer) data: rendered images may have sub-pixel-sharp spots. Returns the count.
 */
export function suppressHotPixels(plane: Float32Array, width: number, height: number, background: Float32Array, noiseSd: number): number {
  const src = Float32Array.from(plane);
  const neighbours = new Float64Array(8);
  const floor = HOT_PIXEL_SDS * Math.max(noiseSd, 1e-6);
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = src[i];
      const bg = background[i];
      if (v - bg <= floor) continue;
      let k = 0;
      let first = -Infinity;
      let second = -Infinity;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= width) continue;
          const n = src[yy * width + xx];
          neighbours[k++] = n;
          if (n > first) {
            second = first;
            first = n;
          } else if (n > second) second = n;
        }
      }
      if (k < 2 || v - second <= floor || v - bg <= HOT_PIXEL_NEIGHBOUR_RATIO * Math.max(0, second - bg)) continue;
      const sorted = neighbours.subarray(0, k).sort();
      plane[i] = k % 2 ? sorted[k >> 1] : (sorted[(k >> 1) - 1] + sorted[k >> 1]) / 2;
      count++;
    }
  }
  return count;
}

/**
 * The first half of the pre-filter: median filter → values ≥ thresholdUpper become
 * clipToUpper → values ≤ thresholdLower become clipToLower → subtract clipToLower. Returns a
 * new float32 array of the same layout (what the background is estimated on).
 */
export function clipFrame(frame: NumericArray, width: number, height: number, depth: number, params: ClipFilterParams): Float32Array {
  validateClipFilterParams(params);
  const n = width * height * depth;
  if (frame.length !== n) throw new RangeError(`frame has ${frame.length} values, expected ${width}×${height}×${depth} = ${n}`);
  const out = params.medianFilterSize > 1 ? medianFilter2d(frame, width, height, depth, params.medianFilterSize) : Float32Array.from(frame);
  const { thresholdLower, clipToLower, thresholdUpper, clipToUpper } = params;
  for (let i = 0; i < n; i++) {
    let v = out[i];
    if (v >= thresholdUpper) v = clipToUpper;
    if (v <= thresholdLower) v = clipToLower;
    out[i] = v - clipToLower;
  }
  return out;
}

/**
 * Pre-filter one frame: clipFrame → subtract the background map, plane by plane (background
 * 'auto') → multiply by the Tukey window. Returns a new float32 array of the same layout.
 */
export function clipAndFilterFrame(frame: NumericArray, width: number, height: number, depth: number, params: ClipFilterParams): Float32Array {
  const hotPixels = params.hotPixels ?? !(frame instanceof Float32Array || frame instanceof Float64Array);
  const out = clipFrame(frame, width, height, depth, params);
  const tx = tukeyWindow(width, params.tukeySize);
  const ty = tukeyWindow(height, params.tukeySize);
  const tz = depth > 1 && !isThinVolume(depth) ? tukeyWindow(depth, params.tukeySize) : null;
  const plane = width * height;
  if ((params.background ?? 'auto') === 'auto') {
    for (let z = 0; z < depth; z++) {
      const p = out.subarray(z * plane, (z + 1) * plane);
      const { map, noiseSd } = estimateBackground(p, width, height);
      if (hotPixels) suppressHotPixels(p, width, height, map, noiseSd);
      for (let i = 0; i < plane; i++) p[i] -= map[i];
    }
  }
  for (let z = 0; z < depth; z++) {
    const wz = tz ? tz[z] : 1;
    for (let y = 0; y < height; y++) {
      const wzy = wz * ty[y];
      const row = (z * height + y) * width;
      for (let x = 0; x < width; x++) out[row + x] *= wzy * tx[x];
    }
  }
  return out;
}

/**
 * Median over a size×size box in every z plane, edges replicated. For an even size the box
 * spans −size/2 … size/2 − 1 and the upper median is taken, as scipy.ndimage.median_filter.
 */
export function medianFilter2d(frame: NumericArray, width: number, height: number, depth: number, size: number): Float32Array {
  const out = new Float32Array(width * height * depth);
  if (size === 3) {
    for (let z = 0; z < depth; z++) median3(frame, width, height, z * width * height, out);
    return out;
  }
  const lo = -Math.floor(size / 2);
  const count = size * size;
  const rank = Math.floor(count / 2);
  const buf = new Float64Array(count);
  // Clamped column indices for every x and offset, computed once.
  const cols = new Int32Array(width * size);
  for (let x = 0; x < width; x++) for (let i = 0; i < size; i++) cols[x * size + i] = Math.min(width - 1, Math.max(0, x + lo + i));
  for (let z = 0; z < depth; z++) {
    const plane = z * width * height;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let k = 0;
        for (let j = 0; j < size; j++) {
          const row = plane + Math.min(height - 1, Math.max(0, y + lo + j)) * width;
          for (let i = 0; i < size; i++) buf[k++] = frame[row + cols[x * size + i]];
        }
        out[plane + y * width + x] = select(buf, rank);
      }
    }
  }
  return out;
}

/**
 * 3×3 median with replicated edges, the common case: sort each column triple once per row
 * band, then median = med3(max of the lows, med of the middles, min of the highs)
 * (Paeth, Graphics Gems, 1990).
 */
function median3(frame: NumericArray, width: number, height: number, plane: number, out: Float32Array): void {
  const lowC = new Float64Array(width);
  const midC = new Float64Array(width);
  const highC = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const r0 = plane + Math.max(0, y - 1) * width;
    const r1 = plane + y * width;
    const r2 = plane + Math.min(height - 1, y + 1) * width;
    for (let x = 0; x < width; x++) {
      let a = frame[r0 + x];
      let b = frame[r1 + x];
      let c = frame[r2 + x];
      if (a > b) [a, b] = [b, a];
      if (b > c) [b, c] = [c, b];
      if (a > b) [a, b] = [b, a];
      lowC[x] = a;
      midC[x] = b;
      highC[x] = c;
    }
    for (let x = 0; x < width; x++) {
      const xl = x > 0 ? x - 1 : 0;
      const xr = x < width - 1 ? x + 1 : width - 1;
      const maxLow = Math.max(lowC[xl], lowC[x], lowC[xr]);
      const minHigh = Math.min(highC[xl], highC[x], highC[xr]);
      const medMid = med3(midC[xl], midC[x], midC[xr]);
      out[r1 + x] = med3(maxLow, medMid, minHigh);
    }
  }
}

function med3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** The k-th smallest of buf (0-based), by quickselect; reorders buf. */
function select(buf: Float64Array, k: number): number {
  return selectKth(buf, buf.length, k);
}
