/**
 * Every drift file ccdrift meets, by extension, in and out. Their sign conventions:
 *
 * | file | holds | units | frames |
 * |---|---|---|---|
 * | `.npz` (PYME plugin, ccdrift) | the correction to ADD, samples (`tIndex`, `drift`) | nm | 0-based |
 * | `.txt` (Picasso `_drift.txt`) | the drift Picasso SUBTRACTS, one row per frame | x, y camera pixels; z nm | row = frame, 0-based |
 * | `.csv` (ccdrift per-frame) | the correction to ADD, one row per frame | nm | `t` 0-based, or `frame` 1-based |
 * | `.json` (ThunderSTORM) | the drift ThunderSTORM SUBTRACTS, a spline of the frame | its `units` (PIXEL, NANOMETER, MICROMETER) | 1-based |
 *
 * Readers return ccdrift's trace (correction to add, nm, 0-based t) and whether it is a
 * per-frame table (already interpolated: apply it as it is) or measured samples.
 */
import { param } from '../core/messageParams.js';
import { promises as fs } from 'node:fs';
import { InputError, UsageError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';
import { writeAtomically } from './atomic.js';
import { parsePerFrameDriftCsv, parsePicassoDriftTxt, writePerFrameDriftCsv, writePicassoDriftTxt } from './driftText.js';
import { extensionOf } from './formats.js';
import { readDriftNpz, writeDriftNpz } from './npz.js';
import { formatThunderstormDriftJson, parseThunderstormDriftJson } from './thunderstormDrift.js';

/** Extensions of drift files, read and written. */
export const DRIFT_FILE_EXTENSIONS = ['.npz', '.txt', '.csv', '.json'] as const;

export interface DriftFile {
  trace: DriftTrace;
  /** One sample per frame (Picasso .txt, per-frame CSV, ThunderSTORM JSON): interpolate, do not smooth. */
  perFrame: boolean;
  /** How the file counts frames (1: ThunderSTORM, `frame` CSV). */
  frameBase: 0 | 1;
  kind: 'npz' | 'picasso-txt' | 'csv' | 'thunderstorm-json';
}

async function readText(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`, { cause: err });
    if (code === 'EISDIR') throw new InputError(`${path}: is a folder, not a drift file`, { cause: err });
    throw err;
  }
}

/** Read any drift file (see the table above). `pixelSizeNm` converts Picasso .txt and pixel-unit ThunderSTORM files. */
export async function readDriftFile(path: string, options: { pixelSizeNm?: number } = {}): Promise<DriftFile> {
  const file = await readDriftFileOfKind(path, options);
  if (file.trace.t.length < 2) {
    throw new InputError(
      `${path}: the drift file holds one sample (tIndex = [${file.trace.t[0] ?? ''}]); a drift needs samples at two times at least ` +
        '(was it measured on too short a series?)',
    );
  }
  return file;
}

async function readDriftFileOfKind(path: string, options: { pixelSizeNm?: number }): Promise<DriftFile> {
  const ext = extensionOf(path);
  switch (ext) {
    case '.npz':
      return { trace: await readDriftNpz(path), perFrame: false, frameBase: 0, kind: 'npz' };
    case '.txt':
      return { trace: parsePicassoDriftTxt(await readText(path), path, options.pixelSizeNm), perFrame: true, frameBase: 0, kind: 'picasso-txt' };
    case '.csv': {
      const { trace, frameBase } = parsePerFrameDriftCsv(await readText(path), path);
      return { trace, perFrame: true, frameBase, kind: 'csv' };
    }
    case '.json':
      return { trace: parseThunderstormDriftJson(await readText(path), path, options.pixelSizeNm), perFrame: true, frameBase: 1, kind: 'thunderstorm-json' };
    default:
      throw new UsageError(
        `${path}: not a drift file ccdrift reads (extension '${ext || '(none)'}'); known: .npz (PYME/ccdrift), .txt (Picasso), .csv (ccdrift per-frame t,x,y,z), .json (ThunderSTORM)`,
      );
  }
}

/** Does a drift file of this extension need the camera pixel size to be written? */
export function driftFileNeedsPixelSize(path: string): boolean {
  return extensionOf(path) === '.txt';
}

/** Throw a UsageError unless `path` has a drift-file extension ccdrift writes. */
export function checkDriftFileExtension(path: string, flag: string): void {
  const ext = extensionOf(path);
  if (!(DRIFT_FILE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new UsageError(
      `${flag} ${path}: drift is written as .npz (samples, nm), .csv (t,x,y,z nm per frame), .txt (Picasso, pixels) or .json (ThunderSTORM); got '${ext || '(none)'}'`,
    );
  }
}

export interface DriftWriteOptions {
  /** Camera pixel size in nm, for Picasso .txt. */
  pixelSizeNm?: number;
  /** Columns of a Picasso .txt: 3 writes z. */
  dims?: 2 | 3;
  /** Frame counting of a per-frame CSV (1: `frame` column, as ThunderSTORM tables). */
  frameBase?: 0 | 1;
  /** Per-frame standard errors (nm), written as sd_x, sd_y, sd_z columns of a CSV. */
  sd?: { x: Float64Array; y: Float64Array; z: Float64Array };
  inputs?: string[];
}

/**
 * Write a trace as the file its extension names, atomically. Per-frame formats (.txt, .csv,
 * .json) expect one sample per frame (see sampleDriftPerFrame); a Picasso .txt must start at
 * frame 0. Returns the path written.
 */
export async function writeDriftFile(path: string, trace: DriftTrace, options: DriftWriteOptions = {}): Promise<string> {
  const ext = extensionOf(path);
  const inputs = options.inputs ?? [];
  switch (ext) {
    case '.npz':
      return writeDriftNpz(path, trace, { inputs });
    case '.csv':
      return writePerFrameDriftCsv(path, trace, { inputs, frameBase: options.frameBase, sd: options.sd });
    case '.txt':
      if (!options.pixelSizeNm) throw new UsageError(`${path}: Picasso drift files are in camera pixels; give ${param('pixelSizeNm')} (nm)`);
      return writePicassoDriftTxt(path, trace, { pixelSizeNm: options.pixelSizeNm, dims: options.dims ?? (trace.z.some((v) => v !== 0) ? 3 : 2), inputs });
    case '.json': {
      const text = formatThunderstormDriftJson(trace);
      await writeAtomically([path], ([temp]) => fs.writeFile(temp, text), inputs);
      return path;
    }
    default:
      checkDriftFileExtension(path, 'drift file');
      return path;
  }
}
