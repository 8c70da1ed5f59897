import { createDriftInterpolator } from '../../src/core/drift/driftInterpolator.js';
import type { DriftTrace } from '../../src/core/types.js';

/** Per-frame RMSE per axis of a drift (smoothing 'auto') against the truth, the constant offset removed. */
export function driftRmse(drift: DriftTrace, truth: DriftTrace, dims: number): number[] {
  const ev = createDriftInterpolator([drift], { smoothing: 'auto' }).evaluate(truth.t);
  return (['x', 'y', 'z'] as const).slice(0, dims).map((a) => {
    let m = 0;
    for (let i = 0; i < truth.t.length; i++) m += ev[a][i] - truth[a][i];
    m /= truth.t.length;
    let s = 0;
    for (let i = 0; i < truth.t.length; i++) s += (ev[a][i] - truth[a][i] - m) ** 2;
    return Math.sqrt(s / truth.t.length);
  });
}
