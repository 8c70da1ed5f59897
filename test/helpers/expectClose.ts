import { expect } from 'vitest';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Compare two arrays elementwise with |a − e| ≤ atol + rtol·|e|, reporting the worst index
 * (and its values) on failure rather than the first.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-9, atol = 0 }: Tolerance = {}, label = 'values'): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const a = actual[worst];
    const e = expected[worst];
    throw new Error(
      `${label}: worst mismatch at index ${worst}: actual ${a}, expected ${e} ` +
        `(|diff| ${Math.abs(a - e)}, allowed ${atol + rtol * Math.abs(e)}; rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Root-mean-square of the difference after removing the mean difference (drift is defined up to a constant). */
export function rmseAfterOffset(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const n = expected.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] - expected[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (actual[i] - expected[i] - mean) ** 2;
  return Math.sqrt(ss / n);
}
