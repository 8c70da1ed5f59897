/**
 * Pixel statistics of a frame, so a user can see the camera pedestal and what stands above it
 * (`ccdrift info`, issue 8): the order statistics of the raw values, and the robust
 * background level and noise under the structure (./background.ts).
 */
import type { NumericArray } from '../types.js';
import { estimateBackground } from './background.js';

export interface FrameStatistics {
  min: number;
  /** 1st percentile: close to the camera offset when there is little background. */
  p1: number;
  median: number;
  /** 99.9th percentile: the bright structure, less single hot pixels than `max`. */
  p999: number;
  max: number;
  /** Background (offset + background) under the structure: median of the planes' background maps. */
  background: number;
  /** Robust noise standard deviation of the background. */
  noiseSd: number;
}

/** Value at quantile q of sorted[0 … n), linear between order statistics (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Statistics of one frame of width × height × depth values (x fastest). */
export function frameStatistics(frame: NumericArray, width: number, height: number, depth = 1): FrameStatistics {
  const n = width * height * depth;
  if (frame.length !== n) throw new RangeError(`frame has ${frame.length} values, expected ${width}×${height}×${depth} = ${n}`);
  const sorted = Float64Array.from(frame).sort();
  const plane = width * height;
  const levels: number[] = [];
  const noises: number[] = [];
  for (let z = 0; z < depth; z++) {
    const view = Float64Array.from({ length: plane }, (_, i) => frame[z * plane + i]);
    const b = estimateBackground(view, width, height);
    levels.push(b.level);
    noises.push(b.noiseSd);
  }
  const mid = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  return {
    min: sorted[0],
    p1: quantile(sorted, 0.01),
    median: quantile(sorted, 0.5),
    p999: quantile(sorted, 0.999),
    max: sorted[n - 1],
    background: mid(levels),
    noiseSd: mid(noises),
  };
}
