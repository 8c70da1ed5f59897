/**
 * Checks on parameters that several steps share, in one place (issue 9): Locs_RCC and Image_RCC
 * both take `shiftMaxNm`, `corrWindow` and `method`; the clip filter, the localization histograms
 * and the Tukey window take `tukeySize`; the Fourier shift and Image_Post_Shift take
 * `paddingMultiplier`. A failed check is a UsageError naming the library option in `param` and,
 * marked (core/messageParams.ts), at the start of its message; front ends rename it for their users.
 */
import { UsageError } from './errors.js';
import { param as named } from './messageParams.js';

function fail(param: string, expected: string, received: unknown): never {
  const shown = typeof received === 'string' ? `'${received}'` : String(received);
  throw new UsageError(`${named(param)} must be ${expected}, got ${shown}`, { param });
}

/** Tukey window shape: 0 = rectangular … 1 = Hann. */
export function checkTukeySize(value: number, param = 'tukeySize'): void {
  if (!(value >= 0 && value <= 1)) fail(param, 'between 0 and 1', value);
}

/** Largest accepted residual of a pair (nm), or 'auto'. */
export function checkShiftMax(value: number | 'auto', param = 'shiftMaxNm'): void {
  if (value !== 'auto' && !(value > 0 && Number.isFinite(value))) fail(param, "a positive number of nm or 'auto'", value);
}

/** Pairs up to this many windows apart (≤ 0 = all), or 'auto'. */
export function checkCorrWindow(value: number | 'auto', param = 'corrWindow'): void {
  if (value !== 'auto' && !Number.isInteger(value)) fail(param, "a whole number or 'auto'", value);
}

export const RCC_METHODS = ['RCC', 'MCC', 'DCC'] as const;

/** RCC (redundant, outliers rejected), MCC (redundant) or DCC (against the first). */
export function checkRccMethod(value: string, param = 'method'): void {
  if (!(RCC_METHODS as readonly string[]).includes(value)) fail(param, 'RCC, MCC or DCC', value);
}

/** Zero padding on every side, as a multiple of the frame size. */
export function checkPadding(value: number, param = 'paddingMultiplier'): void {
  if (!(value >= 0 && Number.isFinite(value))) fail(param, 'a number ≥ 0', value);
}

/** A positive, finite number in `unit`, or 'auto'. */
export function checkPositiveOrAuto(value: number | 'auto', param: string, unit: string): void {
  if (value !== 'auto' && !(value > 0 && Number.isFinite(value))) fail(param, `a positive number of ${unit} or 'auto'`, value);
}
