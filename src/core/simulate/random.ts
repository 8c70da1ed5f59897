/**
 * A small, fast, seeded pseudo-random generator for the simulators: xoshiro128** (Blackman &
 * Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4), 2021,
 * doi:10.1145/3460772) seeded through splitmix32, with uniform, normal (Marsaglia polar),
 * lognormal, exponential, gamma (Marsaglia–Tsang) and Poisson (Knuth / PTRS) variates. The same seed (and stream)
 * gives the same sequence on every platform: only 32-bit integer arithmetic and IEEE doubles.
 */
import { UsageError } from '../errors.js';
import { logGamma } from './special.js';

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
/** Below this mean Knuth's multiplication method is used; above it PTRS (as numpy does). */
const POISSON_PTRS_MIN_MEAN = 10;

/** One step of splitmix32: advances `state` and returns a well-mixed 32-bit word. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal = 0;
  private hasSpareNormal = false;

  /** Prefer `createRandom(seed, stream)`, which validates the seed. */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const mix = { s: lo };
    const hiMixed = splitmix32({ s: hi ^ 0x5bd1e995 });
    const streamMixed = splitmix32({ s: (stream >>> 0) ^ 0x27d4eb2f });
    mix.s = (lo ^ hiMixed ^ Math.imul(streamMixed, 0x9e3779b1)) | 0;
    this.s0 = splitmix32(mix) | 0;
    this.s1 = splitmix32(mix) | 0;
    this.s2 = splitmix32(mix) | 0;
    this.s3 = splitmix32(mix) | 0;
    // xoshiro's only forbidden state is all zeros.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next raw 32-bit output as an unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform on the open interval (0, 1), 32-bit resolution (never exactly 0 or 1). */
  uniform(): number {
    return (this.nextUint32() + 0.5) * INV_TWO_POW_32;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32 (multiply-shift; bias below n / 2^32). */
  integer(n: number): number {
    return Math.floor(this.nextUint32() * INV_TWO_POW_32 * n);
  }

  /** Standard normal variate (Marsaglia's polar method; pairs are cached). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    this.hasSpareNormal = true;
    return u * f;
  }

  /** Lognormal variate with the given median and log-space standard deviation. */
  lognormal(median: number, sigmaLog: number): number {
    return median * Math.exp(sigmaLog * this.normal());
  }

  /** Exponential variate with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(this.uniform());
  }

  /**
   * Gamma variate with the given shape k > 0 and scale θ (mean kθ): Marsaglia and Tsang's
   * squeeze method ("A simple method for generating gamma variables", ACM TOMS 26:363, 2000,
   * doi:10.1145/358407.358414); for k < 1 a Gamma(k + 1) variate times U^(1/k).
   */
  gamma(shape: number, scale = 1): number {
    if (!(shape > 0)) return 0;
    if (shape < 1) return this.gamma(shape + 1, scale) * this.uniform() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
    }
  }

  /**
   * Poisson variate with the given mean ≥ 0: Knuth's multiplication method below a mean of
   * 10, otherwise Hörmann's transformed rejection with squeeze (PTRS; W. Hörmann, "The
   * transformed rejection method for generating Poisson random variables", Insurance:
   * Mathematics and Economics 12, 1993, doi:10.1016/0167-6687(93)90997-4), as in numpy.
   */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < POISSON_PTRS_MIN_MEAN) {
      const limit = Math.exp(-mean);
      let k = 0;
      let product = this.uniform();
      while (product > limit) {
        k++;
        product *= this.uniform();
      }
      return k;
    }
    const sqrtMean = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * sqrtMean;
    const a = -0.059 + 0.02483 * b;
    const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= -mean + k * logMean - logGamma(k + 1)) {
        return k;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded generator. `seed` is any non-negative safe integer; `stream` (a 32-bit integer)
 * selects an independent sequence for the same seed (e.g. one per image frame, so frames
 * can be rendered in any order and still be identical).
 */
export function createRandom(seed: number, stream = 0): SeededRandom {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new UsageError(`seed must be a non-negative integer; received ${seed}. Use e.g. seed: 1`);
  }
  if (!Number.isInteger(stream) || stream < 0 || stream >= TWO_POW_32) {
    throw new UsageError(`random stream must be an integer in [0, 2^32); received ${stream}`);
  }
  return new SeededRandom(seed, stream);
}
