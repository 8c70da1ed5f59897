import { checkTukeySize } from '../parameters.js';

/**
 * Tukey (tapered cosine) window of length `m` and shape `alpha`, identical to
 * `scipy.signal.windows.tukey(m, alpha, sym=True)`: alpha = 0 is rectangular, 1 is Hann.
 */
export function tukeyWindow(m: number, alpha: number): Float64Array {
  if (!Number.isInteger(m) || m < 0) throw new RangeError(`tukey window length must be a whole number ≥ 0, got ${m}`);
  checkTukeySize(alpha);
  const w = new Float64Array(m).fill(1);
  if (m <= 1 || alpha === 0) return w;
  const width = Math.floor((alpha * (m - 1)) / 2);
  const span = alpha * (m - 1);
  for (let n = 0; n <= width; n++) w[n] = 0.5 * (1 + Math.cos(Math.PI * (-1 + (2 * n) / span)));
  for (let n = m - width - 1; n < m; n++) w[n] = 0.5 * (1 + Math.cos(Math.PI * (-2 / alpha + 1 + (2 * n) / span)));
  return w;
}
