/**
 * Drift traces as numpy `.npz` bytes, the file format of the original PYME plugin's
 * `Drift_Save` (`numpy.savez(path, tIndex=..., drift=...)`): key `tIndex` float64 (n) holds
 * the sample times in frames, key `drift` float64 (n, 3) the correction to ADD in nm, columns
 * x, y, z (see `core/types.ts`). No `node:` imports, so the browser app can use it.
 */
import { InputError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';
import { buildNpz, npzKeys, parseNpz, type NpyArray } from './npy.js';

/** The keys a drift file may hold: the original's two and ccdrift's additions. */
const DRIFT_KEYS = ['tIndex', 'drift', 'drift_sd', 'breaks', 'refined'];

function shapeText(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function allFinite(name: string, key: string, a: NpyArray, columns: number): void {
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i])) {
      const where = columns > 1 ? `[${Math.floor(i / columns)}, ${i % columns}]` : `[${i}]`;
      throw new InputError(`${name}: key '${key}' holds ${a.data[i]} at ${where}; drift samples must be finite numbers`);
    }
  }
}

/**
 * Decode `.npz` bytes into a drift trace. Accepts `drift` of shape (n, 3) or (n, 2) (z is
 * then 0) and any numeric dtype (converted to float64). `name` (usually the file path)
 * starts every error message.
 */
export function decodeDriftNpz(bytes: Uint8Array, name: string): DriftTrace {
  // Only the drift's own keys are decoded: other entries (a note as a string, …) are left alone.
  const arrays = parseNpz(bytes, name, DRIFT_KEYS);
  const found =
    npzKeys(bytes, name)
      .map((k) => `'${k}'`)
      .join(', ') || '(none)';
  const expectedKeys = "a drift file holds 'tIndex' (n sample times, frames) and 'drift' (n, 3) in nm";
  const tIndex = arrays.get('tIndex');
  const drift = arrays.get('drift');
  if (!tIndex) throw new InputError(`${name}: no key 'tIndex' (keys found: ${found}); ${expectedKeys}`);
  if (!drift) throw new InputError(`${name}: no key 'drift' (keys found: ${found}); ${expectedKeys}`);
  if (tIndex.dtype === 'b1' || drift.dtype === 'b1') {
    throw new InputError(`${name}: '${tIndex.dtype === 'b1' ? 'tIndex' : 'drift'}' is a boolean array; expected float64`);
  }
  if (tIndex.shape.length !== 1) {
    throw new InputError(`${name}: key 'tIndex' has shape ${shapeText(tIndex.shape)}; expected (n,) (one sample time per row)`);
  }
  const n = tIndex.shape[0];
  if (drift.shape.length !== 2 || drift.shape[0] !== n || (drift.shape[1] !== 3 && drift.shape[1] !== 2)) {
    throw new InputError(
      `${name}: key 'drift' has shape ${shapeText(drift.shape)}; expected (n, 3) with n = len(tIndex) = ${n}` +
        ' (columns x, y, z in nm; (n, 2) is read with z = 0)',
    );
  }
  if (n === 0) throw new InputError(`${name}: the drift trace has no samples (tIndex is empty)`);
  allFinite(name, 'tIndex', tIndex, 1);
  for (let i = 1; i < n; i++) {
    if (!(Number(tIndex.data[i]) > Number(tIndex.data[i - 1]))) {
      throw new InputError(
        `${name}: key 'tIndex' (the sample times, frames) must increase, but tIndex[${i - 1}] = ${tIndex.data[i - 1]} and tIndex[${i}] = ${tIndex.data[i]}; ` +
          'the file is corrupt or was not written as a drift file (samples in time order, one per time)',
      );
    }
  }
  const columns = drift.shape[1];
  allFinite(name, 'drift', drift, columns);
  const trace: DriftTrace = {
    t: Float64Array.from(tIndex.data),
    x: new Float64Array(n),
    y: new Float64Array(n),
    z: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    trace.x[i] = drift.data[i * columns];
    trace.y[i] = drift.data[i * columns + 1];
    if (columns === 3) trace.z[i] = drift.data[i * columns + 2];
  }
  // ccdrift's additions, ignored by the original's loader: standard errors (n × 3, nm), whether
  // the fine stage measured it (`refined` = [1]) and jump frames.
  const sd = arrays.get('drift_sd');
  if (sd) {
    if (sd.shape.length !== 2 || sd.shape[0] !== n || sd.shape[1] !== 3) {
      throw new InputError(`${name}: key 'drift_sd' has shape ${shapeText(sd.shape)}; expected (${n}, 3) like 'drift'`);
    }
    trace.sd = { x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      trace.sd.x[i] = Number(sd.data[3 * i]);
      trace.sd.y[i] = Number(sd.data[3 * i + 1]);
      trace.sd.z[i] = Number(sd.data[3 * i + 2]);
    }
  }
  if (arrays.get('refined')?.data[0]) trace.refined = true;
  const breaks = arrays.get('breaks');
  if (breaks) {
    if (breaks.shape.length !== 1) throw new InputError(`${name}: key 'breaks' has shape ${shapeText(breaks.shape)}; expected (k,) frames`);
    allFinite(name, 'breaks', breaks, 1);
    trace.breaks = Float64Array.from(breaks.data as ArrayLike<number>);
  }
  return trace;
}

/** Encode a drift trace as compressed `.npz` bytes (`tIndex` (n) and `drift` (n, 3), float64). */
export function encodeDriftNpz(trace: DriftTrace): Uint8Array {
  const n = trace.t.length;
  for (const axis of ['x', 'y', 'z'] as const) {
    if (trace[axis].length !== n) {
      throw new RangeError(`drift trace: column ${axis} has ${trace[axis].length} samples, t has ${n}; they must be equal`);
    }
  }
  const drift = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    drift[3 * i] = trace.x[i];
    drift[3 * i + 1] = trace.y[i];
    drift[3 * i + 2] = trace.z[i];
  }
  const entries: Parameters<typeof buildNpz>[0] = {
    tIndex: { data: Float64Array.from(trace.t), shape: [n] },
    drift: { data: drift, shape: [n, 3] },
  };
  if (trace.sd) {
    const sd = new Float64Array(n * 3);
    for (let i = 0; i < n; i++) {
      sd[3 * i] = trace.sd.x[i];
      sd[3 * i + 1] = trace.sd.y[i];
      sd[3 * i + 2] = trace.sd.z[i];
    }
    entries.drift_sd = { data: sd, shape: [n, 3] };
  }
  if (trace.refined) entries.refined = { data: Float64Array.of(1), shape: [1] };
  if (trace.breaks && trace.breaks.length > 0) entries.breaks = { data: Float64Array.from(trace.breaks), shape: [trace.breaks.length] };
  return buildNpz(entries);
}
