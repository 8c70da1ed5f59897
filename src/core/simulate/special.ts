/**
 * Special functions the simulator needs: the error function (pixel-integrated Gaussian
 * PSFs) and log Γ (Poisson sampling by transformed rejection).
 */

/**
 * Complementary error function, erfc(x), with fractional error below 1.2e-7 everywhere
 * (Chebyshev fit of Press et al., Numerical Recipes, 2nd ed., §6.2, `erfcc`).
 */
export function erfc(x: number): number {
  const r = erfcOfAbs(Math.abs(x));
  return x >= 0 ? r : 2 - r;
}

/** Error function, erf(x) = 1 − erfc(x), computed so that it is exactly odd (absolute error below 1.2e-7). */
export function erf(x: number): number {
  const e = 1 - erfcOfAbs(Math.abs(x));
  return x >= 0 ? e : -e;
}

function erfcOfAbs(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return r;
}

/** Coefficients of the Stirling series for log Γ (as numpy's `random_loggam`). */
const STIRLING = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4, -1.917526917526918e-3, 6.41025641025641e-3,
  -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln Γ(x) for x > 0: Stirling series after shifting x up to at least 7 by the recurrence
 * Γ(x + 1) = x Γ(x) (the algorithm of numpy's `random_loggam`); relative error ~1e-15.
 */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  let x0 = x;
  let n = 0;
  if (x < 7) {
    n = Math.floor(7 - x);
    x0 = x + n;
  }
  const x2 = 1 / (x0 * x0);
  let gl0 = STIRLING[9];
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + STIRLING[k];
  let gl = gl0 / x0 + HALF_LOG_2PI + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 1; k <= n; k++) {
    x0 -= 1;
    gl -= Math.log(x0);
  }
  return gl;
}
