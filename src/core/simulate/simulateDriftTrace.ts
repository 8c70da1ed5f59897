/**
 * A known, smooth random drift for simulated data, as a trace sampled at every frame.
 * Sign convention (see ../types.ts): the trace is the CORRECTION TO ADD, so simulated
 * observations are `x_observed = x_true − trace.x(t)` and the first sample is exactly 0.
 */
import { UsageError } from '../errors.js';
import { checkAllocation } from '../memoryLimit.js';
import type { DriftTrace } from '../types.js';
import type { SeededRandom } from './random.js';

/** A sudden stage step: from `frame` on, the correction (truth) changes by (xNm, yNm, zNm). */
export interface DriftJump {
  frame: number;
  xNm?: number;
  yNm?: number;
  zNm?: number;
}

export interface DriftTraceOptions {
  /** Number of frames; the trace is sampled at t = 0, 1, …, frames − 1. */
  frames: number;
  /** Largest |correction| of the smooth part in x and y, before jumps (nm). @default 300 */
  amplitudeNm?: number;
  /** 2 (z stays 0) or 3. @default 2 */
  dim?: 2 | 3;
  /** Largest |correction| of the smooth part in z (nm); ignored in 2D. @default 100 */
  amplitudeZNm?: number;
  /**
   * Sudden steps. A bare number is a frame, with a step of `jumpSizeNm` in a random lateral
   * direction (and up to ±jumpSizeNm/3 in z for 3D) drawn from the generator.
   */
  jumps?: ReadonlyArray<number | DriftJump>;
  /** Lateral size of the steps given as bare frames (nm). @default 200 */
  jumpSizeNm?: number;
  /**
   * Fast periodic drift added to x and y (stage or thermal oscillation), each with its own random
   * phase per axis, 0 at t = 0. @default []
   */
  oscillations?: ReadonlyArray<DriftOscillation>;
}

/** A periodic component of the drift: amplitude (nm) and period (frames). */
export interface DriftOscillation {
  amplitudeNm: number;
  periodFrames: number;
}

/** Number of sinusoids in each axis's smooth drift. */
const SINUSOIDS = 3;
/** Sinusoid frequencies, in cycles over the whole acquisition: low, so the drift is smooth. */
const MIN_CYCLES = 0.3;
const MAX_CYCLES = 2.5;
/** The realised peak |drift| lies between this fraction of the amplitude and the amplitude. */
const MIN_PEAK_FRACTION = 0.6;

/** Resolve `jumps` into explicit steps (drawing sizes for bare frames), validated. */
export function resolveJumps(
  rng: SeededRandom,
  frames: number,
  jumps: ReadonlyArray<number | DriftJump>,
  jumpSizeNm: number,
  withZ: boolean,
): Required<DriftJump>[] {
  return jumps.map((jump, i) => {
    const explicit = typeof jump === 'number' ? { frame: jump } : jump;
    const frame = explicit.frame;
    if (!Number.isInteger(frame) || frame <= 0 || frame >= frames) {
      throw new UsageError(
        `jumps[${i}].frame must be an integer in [1, ${frames - 1}] (a step at frame 0 would ` +
          `break truth[0] = 0, and frames ≥ ${frames} are past the end); received ${frame}`,
      );
    }
    if (typeof jump === 'number') {
      const angle = 2 * Math.PI * rng.uniform();
      return {
        frame,
        xNm: jumpSizeNm * Math.cos(angle),
        yNm: jumpSizeNm * Math.sin(angle),
        zNm: withZ ? (jumpSizeNm / 3) * (2 * rng.uniform() - 1) : 0,
      };
    }
    if (!withZ && jump.zNm !== undefined && jump.zNm !== 0) {
      throw new UsageError(`jumps[${i}].zNm is ${jump.zNm} but the data are 2D (z stays 0); drop zNm or simulate with dim: 3`);
    }
    const step = { frame, xNm: jump.xNm ?? 0, yNm: jump.yNm ?? 0, zNm: withZ ? (jump.zNm ?? 0) : 0 };
    for (const axis of ['xNm', 'yNm', 'zNm'] as const) {
      if (!Number.isFinite(step[axis])) {
        throw new UsageError(`jumps[${i}].${axis} must be a finite number of nm; received ${step[axis]}`);
      }
    }
    return step;
  });
}

/** One axis: linear trend plus low-frequency sinusoids, 0 at t = 0, peak |value| scaled to ≤ amplitude. */
function smoothAxis(rng: SeededRandom, frames: number, amplitudeNm: number, out: Float64Array): void {
  if (amplitudeNm === 0 || frames < 2) return;
  const trend = 2 * rng.uniform() - 1;
  const freq = new Float64Array(SINUSOIDS);
  const amp = new Float64Array(SINUSOIDS);
  const phase = new Float64Array(SINUSOIDS);
  for (let k = 0; k < SINUSOIDS; k++) {
    freq[k] = 2 * Math.PI * (MIN_CYCLES + (MAX_CYCLES - MIN_CYCLES) * rng.uniform());
    amp[k] = (2 * rng.uniform() - 1) / (k + 1);
    phase[k] = 2 * Math.PI * rng.uniform();
  }
  const last = frames - 1;
  let peak = 0;
  for (let t = 0; t < frames; t++) {
    const u = t / last;
    let v = trend * u;
    // Subtracting sin(phase) makes t = 0 exactly 0 (u = 0 gives sin(phase) − sin(phase)).
    for (let k = 0; k < SINUSOIDS; k++) v += amp[k] * (Math.sin(freq[k] * u + phase[k]) - Math.sin(phase[k]));
    out[t] = v;
    peak = Math.max(peak, Math.abs(v));
  }
  // u = 0 gives ±0 (the sign of a product with 0): make it the plain 0 of the convention.
  out[0] = 0;
  if (peak === 0) return;
  const scale = (amplitudeNm * (MIN_PEAK_FRACTION + (1 - MIN_PEAK_FRACTION) * rng.uniform())) / peak;
  for (let t = 0; t < frames; t++) out[t] *= scale;
}

/**
 * A smooth random drift trace with optional jumps, sampled at every frame 0..frames−1,
 * `truth[0] = 0` exactly. Returns the trace and the resolved jumps.
 */
export function simulateDriftTrace(rng: SeededRandom, options: DriftTraceOptions): { trace: DriftTrace; jumps: Required<DriftJump>[] } {
  const { frames, dim = 2, amplitudeNm = 300, amplitudeZNm = 100, jumps = [], jumpSizeNm = 200, oscillations = [] } = options;
  if (dim !== 2 && dim !== 3) throw new UsageError(`dim must be 2 or 3; received ${dim}`);
  if (!Number.isInteger(frames) || frames < 1) {
    throw new UsageError(`frames must be a positive integer; received ${frames}`);
  }
  checkAllocation(frames * 4 * 8, `the drift trace (${frames} frames × t, x, y, z)`, 'simulate fewer frames');
  for (const [name, value] of [
    ['driftAmplitudeNm', amplitudeNm],
    ['driftAmplitudeZNm', amplitudeZNm],
    ['jumpSizeNm', jumpSizeNm],
  ] as const) {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new UsageError(`${name} must be a finite number ≥ 0 (nm); received ${value}`);
    }
  }
  const t = new Float64Array(frames);
  for (let i = 0; i < frames; i++) t[i] = i;
  const x = new Float64Array(frames);
  const y = new Float64Array(frames);
  const z = new Float64Array(frames);
  smoothAxis(rng, frames, amplitudeNm, x);
  smoothAxis(rng, frames, amplitudeNm, y);
  if (dim === 3) smoothAxis(rng, frames, amplitudeZNm, z);
  oscillations.forEach((o, k) => {
    if (!(o.amplitudeNm >= 0) || !Number.isFinite(o.amplitudeNm) || !(o.periodFrames > 0) || !Number.isFinite(o.periodFrames)) {
      throw new UsageError(`oscillations[${k}] needs a finite amplitudeNm ≥ 0 and periodFrames > 0; received ${o.amplitudeNm} nm, ${o.periodFrames} frames`);
    }
    for (const axis of [x, y]) {
      const phase = 2 * Math.PI * rng.uniform();
      const w = (2 * Math.PI) / o.periodFrames;
      for (let i = 1; i < frames; i++) axis[i] += o.amplitudeNm * (Math.sin(w * i + phase) - Math.sin(phase));
    }
  });
  const resolved = resolveJumps(rng, frames, jumps, jumpSizeNm, dim === 3);
  for (const jump of resolved) {
    for (let i = jump.frame; i < frames; i++) {
      x[i] += jump.xNm;
      y[i] += jump.yNm;
      z[i] += jump.zNm;
    }
  }
  return { trace: { t, x, y, z }, jumps: resolved };
}
