/**
 * Wormlike chains (filaments such as microtubules or actin) as polylines of equal steps.
 * The tangent angle diffuses with variance step/persistenceLength per step, so tangents
 * decorrelate as ⟨cos Δθ(s)⟩ = exp(−s / (2·persistenceLength)) in the plane (a 3D chain of
 * that persistence length lying flat). In 3D the elevation angle diffuses likewise,
 * bounded so filaments stay nearly flat as in a cell, and z reflects at ±zHalfRangeNm.
 * Chains reflect at the walls of the given rectangle.
 */
import { UsageError } from '../errors.js';
import { checkAllocation } from '../memoryLimit.js';
import type { SeededRandom } from './random.js';

export interface FilamentOptions {
  /** Number of chains. */
  count: number;
  /** The rectangle they stay in: [xMin, xMax, yMin, yMax] (nm). */
  boundsNm: readonly [number, number, number, number];
  /** Half range of z (nm); 0 keeps every point at z = 0. */
  zHalfRangeNm: number;
  persistenceLengthNm: number;
  /** Mean contour length (nm); each chain's length is uniform in [0.5, 1.5] × this. */
  meanLengthNm: number;
  /** Distance between consecutive polyline points (nm). */
  stepNm: number;
}

/** Points of all chains, concatenated; chain i spans points start[i] .. start[i+1]−1. */
export interface Filaments {
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  start: Int32Array;
  /** Index of the first point of every segment (segments never join two chains). */
  segments: Int32Array;
}

/** Largest |elevation| (rad) of a chain's tangent: cellular filaments lie nearly flat. */
const MAX_ELEVATION_RAD = 0.5;

function reflect(value: number, lo: number, hi: number): [number, boolean] {
  if (value < lo) return [Math.min(2 * lo - value, hi), true];
  if (value > hi) return [Math.max(2 * hi - value, lo), true];
  return [value, false];
}

export function simulateFilaments(rng: SeededRandom, options: FilamentOptions): Filaments {
  const { count, boundsNm, zHalfRangeNm, persistenceLengthNm, meanLengthNm, stepNm } = options;
  const [x0, x1, y0, y1] = boundsNm;
  if (!Number.isInteger(count) || count < 1) {
    throw new UsageError(`filaments must be a positive integer; received ${count}`);
  }
  if (!(x1 > x0) || !(y1 > y0)) {
    throw new UsageError(`filament region [${boundsNm.join(', ')}] nm is empty; enlarge the field or reduce the margin`);
  }
  for (const [name, value] of [
    ['persistenceLengthNm', persistenceLengthNm],
    ['filament length (nm)', meanLengthNm],
    ['filament step (nm)', stepNm],
  ] as const) {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new UsageError(`${name} must be a finite number > 0; received ${value}`);
    }
  }
  if (!(zHalfRangeNm >= 0)) throw new UsageError(`zRangeNm must be ≥ 0; received ${zHalfRangeNm}`);
  // Lengths are up to 1.5 × the mean; x, y, z (Float64) and a segment index (Int32) per point.
  checkAllocation(
    count * 8 + count * (Math.ceil((1.5 * meanLengthNm) / stepNm) + 2) * 28,
    `${count} filaments of about ${+meanLengthNm.toPrecision(3)} nm in steps of ${stepNm} nm`,
    'simulate a smaller field (fewer and shorter filaments)',
  );

  const pointsPer = new Int32Array(count);
  const start = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const length = meanLengthNm * (0.5 + rng.uniform());
    pointsPer[i] = Math.max(2, Math.ceil(length / stepNm) + 1);
    start[i + 1] = start[i] + pointsPer[i];
  }
  const total = start[count];
  const x = new Float64Array(total);
  const y = new Float64Array(total);
  const z = new Float64Array(total);
  const segments = new Int32Array(total - count);
  const angleStep = Math.sqrt(stepNm / persistenceLengthNm);
  const threeD = zHalfRangeNm > 0;
  let s = 0;
  for (let i = 0; i < count; i++) {
    let px = x0 + (x1 - x0) * rng.uniform();
    let py = y0 + (y1 - y0) * rng.uniform();
    let pz = threeD ? zHalfRangeNm * (2 * rng.uniform() - 1) : 0;
    let theta = 2 * Math.PI * rng.uniform();
    let phi = threeD ? 0.2 * MAX_ELEVATION_RAD * rng.normal() : 0;
    for (let k = start[i]; k < start[i + 1]; k++) {
      x[k] = px;
      y[k] = py;
      z[k] = pz;
      if (k > start[i]) segments[s++] = k - 1;
      theta += angleStep * rng.normal();
      if (threeD) phi = Math.max(-MAX_ELEVATION_RAD, Math.min(MAX_ELEVATION_RAD, phi + angleStep * rng.normal()));
      const lateral = stepNm * Math.cos(phi);
      let hit: boolean;
      [px, hit] = reflect(px + lateral * Math.cos(theta), x0, x1);
      if (hit) theta = Math.PI - theta;
      [py, hit] = reflect(py + lateral * Math.sin(theta), y0, y1);
      if (hit) theta = -theta;
      if (threeD) {
        [pz, hit] = reflect(pz + stepNm * Math.sin(phi), -zHalfRangeNm, zHalfRangeNm);
        if (hit) phi = -phi;
      }
    }
  }
  return { x, y, z, start, segments };
}
