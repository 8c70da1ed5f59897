// What the benchmarks print about a drift measured on a simulation: its per-frame error against
// the known truth (the tests' test/helpers/driftError.ts, here on the built library).

/**
 * Per-frame RMSE per axis (nm) of an interpolated drift against the truth, after removing the
 * mean difference: drift is defined up to a constant.
 */
export function rmse(interp, truth, dims) {
  const ev = interp.evaluate(truth.t);
  return ['x', 'y', 'z'].slice(0, dims).map((a) => {
    let m = 0;
    for (let i = 0; i < truth.t.length; i++) m += ev[a][i] - truth[a][i];
    m /= truth.t.length;
    let s = 0;
    for (let i = 0; i < truth.t.length; i++) s += (ev[a][i] - truth[a][i] - m) ** 2;
    return Math.sqrt(s / truth.t.length);
  });
}

/** Per-axis figures as `1.23 / 4.56` (nm). */
export const formatAxes = (v) => v.map((e) => e.toFixed(2)).join(' / ');
