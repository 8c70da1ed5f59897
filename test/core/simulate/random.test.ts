import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { createRandom } from '../../../src/core/simulate/random.js';
import { erf, erfc, logGamma } from '../../../src/core/simulate/special.js';
import { expectClose } from '../../helpers/expectClose.js';

/** Made by fixtures/make_random_reference.py (numpy/scipy versions recorded inside). */
const reference = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'random_reference.json'), 'utf8')) as {
  xoshiro128ss: { seed: number; stream: number; outputs: number[] }[];
  erf: { x: number[]; value: number[] };
  gammaln: { x: number[]; value: number[] };
  poisson: { mean: number; k0: number; pmf: number[] }[];
};

/** Numerical Recipes' erfcc: fractional error below 1.2e-7. */
const ERF_ATOL = 2e-7;
/** Stirling series with 10 terms after shifting to x ≥ 7. */
const LOG_GAMMA_RTOL = 1e-13;
const LOG_GAMMA_ATOL = 1e-13;
/** Sample sizes and the z-score a sample moment may reach (fixed seeds: deterministic). */
const SAMPLES = 200_000;
const Z_MAX = 5;
/** Chi-square: critical value at p = 1e-4 is below df + 4.5·sqrt(2·df) + 10 for df ≥ 10. */
function chiSquareLimit(df: number): number {
  return df + 4.5 * Math.sqrt(2 * df) + 10;
}

describe('createRandom (xoshiro128** seeded by splitmix32)', () => {
  it('matches an independent Python implementation word for word', () => {
    for (const { seed, stream, outputs } of reference.xoshiro128ss) {
      const rng = createRandom(seed, stream);
      const got = outputs.map(() => rng.nextUint32());
      expect(got, `seed ${seed} stream ${stream}`).toEqual(outputs);
    }
  });

  it('is deterministic per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number, stream = 0) => {
      const rng = createRandom(seed, stream);
      return Array.from({ length: 16 }, () => rng.uniform());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 0)).not.toEqual(draw(7, 1));
  });

  it('rejects seeds and streams it cannot represent', () => {
    expect(() => createRandom(-1)).toThrow(UsageError);
    expect(() => createRandom(1.5)).toThrow(/non-negative integer; received 1.5/);
    expect(() => createRandom(2 ** 53)).toThrow(UsageError);
    expect(() => createRandom(1, 2 ** 32)).toThrow(/stream/);
  });

  it('uniform() stays in the open interval with mean 1/2 and variance 1/12', () => {
    const rng = createRandom(11);
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const u = rng.uniform();
      sum += u;
      sumSq += u * u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    const mean = sum / SAMPLES;
    expect(Math.abs(mean - 0.5)).toBeLessThan(Z_MAX * Math.sqrt(1 / 12 / SAMPLES));
    expect(Math.abs(sumSq / SAMPLES - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('integer(n) covers 0..n−1 evenly', () => {
    const rng = createRandom(12);
    const n = 10;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < SAMPLES; i++) counts[rng.integer(n)]++;
    const expected = SAMPLES / n;
    const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(chiSquareLimit(n - 1));
  });

  it('normal() has mean 0, variance 1, and the normal tail mass', () => {
    const rng = createRandom(13);
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const g = rng.normal();
      sum += g;
      sumSq += g * g;
      if (Math.abs(g) > 2) beyond2++;
    }
    expect(Math.abs(sum / SAMPLES)).toBeLessThan(Z_MAX / Math.sqrt(SAMPLES));
    expect(Math.abs(sumSq / SAMPLES - 1)).toBeLessThan(Z_MAX * Math.sqrt(2 / SAMPLES));
    // P(|g| > 2) = erfc(2/√2) = 0.0455003 (scipy.special.erfc).
    const p = 0.04550026389635842;
    expect(Math.abs(beyond2 / SAMPLES - p)).toBeLessThan(Z_MAX * Math.sqrt((p * (1 - p)) / SAMPLES));
  });

  it('poisson() follows scipy.stats.poisson.pmf (Knuth below mean 10, PTRS above)', () => {
    for (const { mean, k0, pmf } of reference.poisson) {
      const rng = createRandom(14);
      const counts = new Array<number>(pmf.length).fill(0);
      let sum = 0;
      let invalid = 0;
      for (let i = 0; i < SAMPLES; i++) {
        const k = rng.poisson(mean);
        if (!(Number.isInteger(k) && k >= 0)) invalid++;
        sum += k;
        if (k - k0 < pmf.length) counts[k - k0]++;
      }
      expect(invalid, 'draws that are not non-negative integers').toBe(0);
      expect(Math.abs(sum / SAMPLES - mean), `mean ${mean}`).toBeLessThan(Z_MAX * Math.sqrt(mean / SAMPLES));
      // Chi-square over cells with at least 5 expected counts (the rest pooled).
      let chi2 = 0;
      let cells = 0;
      let pooledObserved = 0;
      let pooledExpected = 0;
      for (let j = 0; j < pmf.length; j++) {
        const expected = pmf[j] * SAMPLES;
        if (expected >= 5) {
          chi2 += (counts[j] - expected) ** 2 / expected;
          cells++;
        } else {
          pooledObserved += counts[j];
          pooledExpected += expected;
        }
      }
      if (pooledExpected > 0) {
        chi2 += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
        cells++;
      }
      expect(chi2, `chi-square for mean ${mean} over ${cells} cells`).toBeLessThan(chiSquareLimit(cells - 1));
    }
  });

  it('poisson() of a mean ≤ 0 is 0', () => {
    const rng = createRandom(15);
    expect(rng.poisson(0)).toBe(0);
    expect(rng.poisson(-3)).toBe(0);
  });
});

describe('special functions', () => {
  it('erf matches scipy.special.erf', () => {
    expectClose(reference.erf.x.map(erf), reference.erf.value, { atol: ERF_ATOL, rtol: 0 }, 'erf');
  });

  it('erfc is 1 − erf, and erf is odd', () => {
    for (const x of [0.3, 1.1, 2.7]) {
      expect(erfc(x) + erf(x)).toBe(1);
      expect(erf(-x)).toBe(-erf(x));
    }
  });

  it('logGamma matches scipy.special.gammaln and exact factorials', () => {
    expectClose(reference.gammaln.x.map(logGamma), reference.gammaln.value, { rtol: LOG_GAMMA_RTOL, atol: LOG_GAMMA_ATOL }, 'logGamma');
    // Γ(n) = (n − 1)!, Γ(1/2) = √π.
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });
});
