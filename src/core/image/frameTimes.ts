/**
 * Time (in frames of the original acquisition) of every time point of a possibly
 * time-binned stack, shared by Image_RCC (sample times) and Image_Post_Shift (where to
 * evaluate the drift) so the two always agree (SPEC §4.5).
 */
import type { Metadata } from '../types.js';

/** Metadata key of the accumulated binning (x, y, t) written by Image_Pre_Downsample. */
export const BINNING_KEY = 'recipe.binning';

/** The recorded binning [bx, by, bt], or null when the stack was never downsampled. */
export function readBinning(metadata: Metadata): [number, number, number] | null {
  const b = metadata[BINNING_KEY];
  if (Array.isArray(b) && b.length === 3 && b.every((v) => typeof v === 'number' && v >= 1)) {
    return [b[0], b[1], b[2]] as [number, number, number];
  }
  return null;
}

/**
 * Time of each of `count` time points: the index, or — when `recipe.binning` records a time
 * bin bt > 1 — index·bt + bt/2 in original frames, as the original plugin computes it (the
 * mean frame of a full bin is index·bt + (bt − 1)/2: half a frame earlier, negligible for a
 * smooth drift, and kept as the original's so drift files stay interchangeable).
 */
export function frameTimes(metadata: Metadata, count: number): Float64Array {
  const bt = readBinning(metadata)?.[2] ?? 1;
  const t = new Float64Array(count);
  for (let i = 0; i < count; i++) t[i] = bt > 1 ? i * bt + bt / 2 : i;
  return t;
}
