/**
 * Image_Pre_Downsample, lazily (SPEC §4.5): crop in x–y, then average over bx × by pixel
 * bins and bt-frame time bins. Binning trades resolution for signal and speed; the drift is
 * then sampled once per time bin (see `frameTimes`).
 */
import { sourceDescription } from './derivedStack.js';
import { UsageError } from '../errors.js';
import type { ImageStack, Metadata } from '../types.js';
import { BINNING_KEY, readBinning } from './frameTimes.js';

export interface DownsampleParams {
  /** First x pixel kept (0-based). SPEC default 0 (`x_start`). */
  xStart: number;
  /**
   * End of the x range, as a Python slice end (exclusive) when ≥ 0; negative values count
   * from the end with −1 meaning through the last pixel (−k keeps through the k-th pixel
   * from the end). SPEC default −1 (`x_end`).
   */
  xEnd: number;
  /** First y pixel kept. SPEC default 0 (`y_start`). */
  yStart: number;
  /** End of the y range, as `xEnd`. SPEC default −1 (`y_end`). */
  yEnd: number;
  /** Bin sizes [bx, by, bt] in pixels, pixels and frames. SPEC default [1, 1, 1] (`binsize`). */
  binning: [number, number, number];
}

export interface DownsampleGeometry {
  /** Crop [start, end) in x and y, pixels of the input. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  /** Output size. */
  width: number;
  height: number;
  frames: number;
}

function resolveEnd(end: number, length: number): number {
  return end < 0 ? length + 1 + end : Math.min(end, length);
}

/** Crop and output size for `params` on a width × height × frames stack; throws UsageError when nothing is left. */
export function downsampleGeometry(width: number, height: number, frames: number, params: DownsampleParams): DownsampleGeometry {
  const [bx, by, bt] = params.binning;
  params.binning.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 1) {
      throw new UsageError(`binsize[${i}] (${['x', 'y', 't'][i]}) must be a whole number ≥ 1, got ${b}`);
    }
  });
  for (const [name, v] of [
    ['x_start', params.xStart],
    ['x_end', params.xEnd],
    ['y_start', params.yStart],
    ['y_end', params.yEnd],
  ] as const) {
    if (!Number.isInteger(v)) throw new UsageError(`${name} must be a whole number of pixels, got ${v}`);
  }
  const x0 = params.xStart;
  const y0 = params.yStart;
  const x1 = resolveEnd(params.xEnd, width);
  const y1 = resolveEnd(params.yEnd, height);
  if (x0 < 0 || x0 >= x1) {
    throw new UsageError(`x_start ${params.xStart} and x_end ${params.xEnd} leave no pixels of a ${width}-pixel-wide image (kept range [${x0}, ${x1}))`);
  }
  if (y0 < 0 || y0 >= y1) {
    throw new UsageError(`y_start ${params.yStart} and y_end ${params.yEnd} leave no pixels of a ${height}-pixel-high image (kept range [${y0}, ${y1}))`);
  }
  const outW = Math.floor((x1 - x0) / bx);
  const outH = Math.floor((y1 - y0) / by);
  if (outW < 1 || outH < 1) {
    throw new UsageError(`the cropped image (${x1 - x0} × ${y1 - y0} pixels) is smaller than one ${bx} × ${by} bin; use smaller binsize`);
  }
  return { x0, x1, y0, y1, width: outW, height: outH, frames: Math.ceil(frames / bt) };
}

/**
 * A float32 view of `stack`, cropped and binned (mean over each bin; x/y pixels that do not
 * fill a whole bin are dropped; the last time bin may hold fewer frames). Voxel size x, y
 * scale by bx, by; `recipe.binning` (x, y, t) is multiplied into any earlier one.
 */
export function downsampleStack(stack: ImageStack, params: DownsampleParams): ImageStack {
  const geo = downsampleGeometry(stack.width, stack.height, stack.frames, params);
  const [bx, by, bt] = params.binning;
  const { width: inW, height: inH, depth } = stack;
  const { x0, y0, width, height, frames } = geo;
  const previous = readBinning(stack.metadata) ?? [1, 1, 1];
  const metadata: Metadata = {
    ...stack.metadata,
    [BINNING_KEY]: [previous[0] * bx, previous[1] * by, previous[2] * bt],
    'recipe.crop': [x0, geo.x1, y0, geo.y1],
  };
  // Keep PYME-style voxel size entries consistent with voxelSizeNm when the file had them.
  for (const [key, b] of [
    ['voxelsize.x', bx],
    ['voxelsize.y', by],
  ] as const) {
    const v = metadata[key];
    if (typeof v === 'number') metadata[key] = v * b;
  }
  const [vx, vy, vz] = stack.voxelSizeNm;
  return {
    width,
    height,
    depth,
    frames,
    dtype: 'float32',
    voxelSizeNm: [vx * bx, vy * by, vz],
    metadata,
    ...sourceDescription(stack),
    async readFrame(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= frames) {
        throw new RangeError(`frame index ${index} is outside 0 … ${frames - 1}`);
      }
      const first = index * bt;
      const last = Math.min(stack.frames, first + bt);
      const out = new Float32Array(width * height * depth);
      const acc = new Float64Array(width * height * depth);
      for (let f = first; f < last; f++) {
        const src = await stack.readFrame(f);
        for (let z = 0; z < depth; z++) {
          for (let y = 0; y < height * by; y++) {
            const inRow = (z * inH + y0 + y) * inW + x0;
            const outRow = (z * height + Math.floor(y / by)) * width;
            for (let x = 0; x < width * bx; x++) acc[outRow + Math.floor(x / bx)] += src[inRow + x];
          }
        }
      }
      const scale = 1 / (bx * by * (last - first));
      for (let i = 0; i < acc.length; i++) out[i] = acc[i] * scale;
      return out;
    },
  };
}
