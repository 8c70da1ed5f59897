/**
 * Bounds on what a localization table can hold (issue 12): a coordinate of 1e30 nm or a frame
 * of 1e15 is a corrupt or mis-read value, and would size a histogram or a per-frame array
 * beyond any memory. Such a value is refused with its column and row, not looped on.
 */
import { InputError } from '../errors.js';
import type { NumericArray } from '../types.js';

/** |x|, |y|, |z| beyond this (1 m) is not a position under a microscope. */
export const MAX_ABS_COORDINATE_NM = 1e9;
/** Frames beyond this (2^31 − 1: over 24 days at 1 kHz) are not frame numbers. */
export const MAX_ABS_FRAME = 2 ** 31 - 1;

/**
 * Throw an InputError naming the column and the (1-based) row of the first value outside the
 * plausible bounds; `source` names the file in the message when known.
 */
export function checkPlausibleLocs(columns: { x?: NumericArray; y?: NumericArray; z?: NumericArray; t?: NumericArray }, source?: string): void {
  const where = source ? `${source}: ` : '';
  for (const name of ['x', 'y', 'z', 't'] as const) {
    const v = columns[name];
    if (!v) continue;
    const bound = name === 't' ? MAX_ABS_FRAME : MAX_ABS_COORDINATE_NM;
    for (let i = 0; i < v.length; i++) {
      const a = v[i];
      if (a >= -bound && a <= bound) continue;
      if (Number.isNaN(a)) continue; // NaN has its own message where it matters (checkFinite)
      throw new InputError(
        name === 't'
          ? `${where}column t (frame) has ${a} at row ${i + 1} (header not counted): frames must lie within ±${bound}; the value is corrupt or not a frame number — fix or remove that row`
          : `${where}column ${name} has ${a} nm at row ${i + 1} (header not counted): coordinates beyond ±${bound.toExponential(0)} nm (1 m) are not positions; the value is corrupt or in the wrong unit — fix or remove that row`,
      );
    }
  }
}
