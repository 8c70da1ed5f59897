/**
 * A simulated stack of rendered SMLM images with a known drift, like the original plugin's
 * example (`wormlike_simulated_images_with_drift.h5`: 448 × 448 pixels of 20 nm, float32,
 * mostly exact zeros): the localizations of a simulated acquisition (simulateLocalizations)
 * are split into consecutive time windows and each window is rendered as one image, every
 * localization a pixel-integrated Gaussian of its own precision (PYME's Gaussian rendering).
 *
 * Drift (see ../types.ts): `truth` holds, per image (time point index, as a plain stack file has
 * no other time), the mean over its window's camera frames of the correction to ADD.
 */
import { UsageError } from '../errors.js';
import type { DriftTrace, ImageStack, Metadata, NumericArray } from '../types.js';
import { erf } from './special.js';
import { simulateLocalizations, type SimulateLocalizationsOptions } from './simulateLocalizations.js';

export interface SimulateRenderedStackOptions {
  /** Number of rendered images (time windows). @default 50 */
  frames?: number;
  /** Camera frames of the underlying acquisition, split evenly between the images. @default 30000 */
  acquisitionFrames?: number;
  /** Localizations of the whole acquisition. @default 130000 */
  locs?: number;
  /** Image width and height (pixels). @default 448 */
  width?: number;
  height?: number;
  /** Pixel size (nm). @default 20 */
  pixelNm?: number;
  /** Rendering sigma floor (nm): each localization is drawn with max(precision, this). @default 0 */
  minSigmaNm?: number;
  /** Seed of the generator. @default 1 */
  seed?: number;
  /** Passed on to simulateLocalizations (filaments, drift, precision, jumps…); field and frames are set here. */
  localizations?: Omit<SimulateLocalizationsOptions, 'frames' | 'locs' | 'seed' | 'fieldNm' | 'dim'>;
}

export interface SimulatedRenderedStack {
  stack: ImageStack;
  /** Mean correction to add over each image's window; t is the image index. */
  truth: DriftTrace;
  /** Per camera frame (truth.t[i] = i), as simulateLocalizations gives it. */
  frameTruth: DriftTrace;
}

/** The structure fills this fraction of the image side; the rest keeps it in view as it drifts. */
const STRUCTURE_FRACTION = 0.8;
/** Each Gaussian is drawn out to this many sigmas. */
const RENDER_CUTOFF_SD = 4;

export function simulateRenderedStack(options: SimulateRenderedStackOptions = {}): SimulatedRenderedStack {
  const frames = options.frames ?? 50;
  const acquisitionFrames = options.acquisitionFrames ?? 30000;
  const width = options.width ?? 448;
  const height = options.height ?? 448;
  const pixelNm = options.pixelNm ?? 20;
  const minSigmaNm = options.minSigmaNm ?? 0;
  for (const [name, v] of [
    ['frames', frames],
    ['acquisitionFrames', acquisitionFrames],
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer; received ${v}`);
  }
  if (acquisitionFrames < frames) throw new UsageError(`acquisitionFrames (${acquisitionFrames}) must be at least frames (${frames})`);
  if (!(pixelNm > 0)) throw new UsageError(`pixelNm must be > 0; received ${pixelNm}`);
  const sideNm = Math.min(width, height) * pixelNm;
  const fieldNm = STRUCTURE_FRACTION * sideNm;
  const sim = simulateLocalizations({
    ...options.localizations,
    frames: acquisitionFrames,
    locs: options.locs ?? 130000,
    seed: options.seed ?? 1,
    fieldNm,
    dim: 2,
  });
  const c = sim.table.columns;
  const x = c.get('x')!;
  const y = c.get('y')!;
  const t = c.get('t')!;
  const ex = c.get('error_x')!;
  const ey = c.get('error_y')!;
  const x0 = (width * pixelNm - fieldNm) / 2;
  const y0 = (height * pixelNm - fieldNm) / 2;
  const framesPerImage = acquisitionFrames / frames;
  // Rows are sorted by t: each image's rows are a contiguous range.
  const rowStart = new Int32Array(frames + 1);
  for (let i = 0, row = 0; i <= frames; i++) {
    const end = i === frames ? Infinity : i * framesPerImage;
    while (row < t.length && t[row] < end) row++;
    rowStart[i] = row;
  }
  const truth: DriftTrace = { t: new Float64Array(frames), x: new Float64Array(frames), y: new Float64Array(frames), z: new Float64Array(frames) };
  for (let i = 0; i < frames; i++) {
    const a = Math.round(i * framesPerImage);
    const b = Math.round((i + 1) * framesPerImage);
    let sx = 0;
    let sy = 0;
    for (let f = a; f < b; f++) {
      sx += sim.truth.x[f];
      sy += sim.truth.y[f];
    }
    truth.t[i] = i;
    truth.x[i] = sx / (b - a);
    truth.y[i] = sy / (b - a);
  }
  // The first sample is 0 by construction (core/types.ts).
  const [tx0, ty0] = [truth.x[0], truth.y[0]];
  for (let i = 0; i < frames; i++) {
    truth.x[i] -= tx0;
    truth.y[i] -= ty0;
  }

  const wx = new Float64Array(64);
  const wy = new Float64Array(64);
  function render(index: number): Float32Array {
    if (!Number.isInteger(index) || index < 0 || index >= frames) throw new RangeError(`frame index ${index} is outside 0 … ${frames - 1}`);
    const image = new Float32Array(width * height);
    for (let row = rowStart[index]; row < rowStart[index + 1]; row++) {
      const cx = (x[row] + x0) / pixelNm - 0.5;
      const cy = (y[row] + y0) / pixelNm - 0.5;
      const sx = Math.max(ex[row], minSigmaNm) / pixelNm;
      const sy = Math.max(ey[row], minSigmaNm) / pixelNm;
      const hx = Math.min(31, Math.ceil(RENDER_CUTOFF_SD * sx));
      const hy = Math.min(31, Math.ceil(RENDER_CUTOFF_SD * sy));
      const ix0 = Math.round(cx) - hx;
      const iy0 = Math.round(cy) - hy;
      const nx = 2 * hx + 1;
      const ny = 2 * hy + 1;
      integrate(cx, sx, ix0, nx, wx);
      integrate(cy, sy, iy0, ny, wy);
      for (let ky = 0; ky < ny; ky++) {
        const iy = iy0 + ky;
        if (iy < 0 || iy >= height) continue;
        for (let kx = 0; kx < nx; kx++) {
          const ix = ix0 + kx;
          if (ix < 0 || ix >= width) continue;
          image[iy * width + ix] += wy[ky] * wx[kx];
        }
      }
    }
    return image;
  }

  const metadata: Metadata = {
    'ccdrift.simulation': { kind: 'rendered', frames, acquisitionFrames, width, height, pixelNm, locs: x.length, seed: options.seed ?? 1 },
    'voxelsize.x': pixelNm / 1000,
    'voxelsize.y': pixelNm / 1000,
    'voxelsize.z': 0.1,
    'voxelsize.units': 'um',
  };
  const stack: ImageStack = {
    width,
    height,
    depth: 1,
    frames,
    dtype: 'float32',
    voxelSizeNm: [pixelNm, pixelNm, 100],
    metadata,
    readFrame: async (index: number): Promise<NumericArray> => render(index),
  };
  return { stack, truth, frameTruth: sim.truth };
}

/** Fraction of a unit Gaussian (centre c, sd s, pixels) in pixels i0 … i0 + n − 1. */
function integrate(c: number, s: number, i0: number, n: number, out: Float64Array): void {
  const k = 1 / (Math.SQRT2 * s);
  let previous = erf((i0 - 0.5 - c) * k);
  for (let j = 0; j < n; j++) {
    const next = erf((i0 + j + 0.5 - c) * k);
    out[j] = 0.5 * (next - previous);
    previous = next;
  }
}
