/**
 * Drift `.npz` files on disk (Node): the original PYME plugin's `Drift_Save` /
 * `Drift_Load_Interpolate` format. The byte-level work is in `driftNpzCodec.ts`, which the
 * browser app uses directly.
 */
import { promises as fs } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';
import { stagedPathFor, writeAtomically } from './atomic.js';
import { decodeDriftNpz, encodeDriftNpz } from './driftNpzCodec.js';

export { decodeDriftNpz, encodeDriftNpz };

/** Read a drift trace from an `.npz` file (keys `tIndex` (n) and `drift` (n, 3) or (n, 2)). */
export async function readDriftNpz(path: string): Promise<DriftTrace> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(stagedPathFor(path) ?? path); // a drift file saved earlier in this run (recipes)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`, { cause: err });
    if (code === 'EISDIR') throw new InputError(`${path}: is a directory, not a drift .npz file`, { cause: err });
    throw err;
  }
  return decodeDriftNpz(bytes, path);
}

/** `path` with `.npz` appended unless it already ends so, as `numpy.savez` does. */
export function driftNpzPath(path: string): string {
  return path.endsWith('.npz') ? path : `${path}.npz`;
}

/**
 * Write a drift trace as a compressed `.npz` (readable by `numpy.load(path, allow_pickle=False)`),
 * atomically, appending `.npz` when `path` lacks it. Refuses to overwrite any of `inputs`.
 * Returns the path actually written.
 */
export async function writeDriftNpz(path: string, trace: DriftTrace, options: { inputs?: string[] } = {}): Promise<string> {
  const target = driftNpzPath(path);
  const bytes = encodeDriftNpz(trace);
  await writeAtomically([target], ([temp]) => fs.writeFile(temp, bytes), options.inputs ?? []);
  return target;
}
