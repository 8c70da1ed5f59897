/** Messages and small output helpers shared by the commands. */
import { UsageError } from '../core/errors.js';
import type { DriftTrace, ImageStack, Metadata, ProgressReporter } from '../core/types.js';
import { extensionOf, writeImageStack } from '../io/index.js';
import type { CrossCorrelationStack } from '../recipes/modules/locsRcc.js';
import { crossCorrelationAsStack } from '../recipes/saveOutputs.js';
import { checkDriftFileExtension, writeDriftFile } from '../io/driftFiles.js';
import { metadataPixelSizeNm } from '../io/columnConventions.js';
import { VERSION } from '../version.js';
import { afterCommit } from '../io/atomic.js';

/** A line on stderr unless --quiet (stdout stays free for data, e.g. `info`). */
export function say(opts: { quiet?: boolean }, line: string): void {
  if (!opts.quiet) process.stderr.write(`${line}\n`);
}

/**
 * "wrote X": said once the outputs are in place (io/atomic.ts afterCommit), not when they are
 * staged, so no line claims a file that a later failure or Ctrl-C discards.
 */
export function sayWritten(opts: { quiet?: boolean }, line: string): void {
  afterCommit(() => say(opts, line));
}

/**
 * Run a long synchronous step that has nothing to clean up (no output or temporary yet, e.g.
 * a simulation before it is written) with the signals' default action: the Ctrl-C handler of
 * main.ts could only run once the step ends, so Ctrl-C would wait for it. The process ends at
 * once, killed by the signal (the shell reports 130 / 143).
 */
export function withDefaultSignalAction<T>(step: () => T): T {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const saved = signals.map((s) => process.listeners(s));
  signals.forEach((s) => process.removeAllListeners(s));
  try {
    return step();
  } finally {
    signals.forEach((s, i) => saved[i].forEach((l) => process.on(s, l)));
  }
}

/** What produced a file: recorded in metadata (PYME-style keys) and in sidecars that take it. */
export function provenanceOf(command: string, params: Record<string, unknown>, input: string): { metadata: Metadata; record: Record<string, unknown> } {
  const record = { software: 'ccdrift', version: VERSION, command, input, parameters: params, date: new Date().toISOString() };
  return {
    record,
    metadata: {
      'ccdrift.version': VERSION,
      'ccdrift.command': command,
      'ccdrift.parameters': JSON.stringify(params),
    },
  };
}

/**
 * Per-frame drift as CSV (t,x,y,z nm, with sd_x,sd_y,sd_z when known; `frame` 1-based for
 * ThunderSTORM tables), Picasso's drift .txt (camera pixels), ThunderSTORM's drift .json or .npz,
 * by extension (io/driftFiles.ts).
 */
export async function writePerFrameOutputs(
  path: string,
  trace: DriftTrace,
  pixelSizeNm: number | undefined,
  is3d: boolean,
  options: { frameBase?: 0 | 1; inputs?: string[]; sd?: { x: Float64Array; y: Float64Array; z: Float64Array } } = {},
): Promise<string> {
  checkDriftFileExtension(path, '--per-frame');
  return writeDriftFile(path, trace, { pixelSizeNm, dims: is3d ? 3 : 2, frameBase: options.frameBase, inputs: options.inputs, sd: options.sd });
}

/** The `debug_cor_file` of Locs_RCC/Image_RCC: one thresholded correlation image per pair, as TIFF. */
export async function writeDebugCorrelations(path: string, stack: CrossCorrelationStack | undefined, inputs: string[]): Promise<string> {
  if (!stack) throw new Error('internal: the correlation images were not kept for debug_cor_file');
  const ext = extensionOf(path);
  if (ext !== '.tif' && ext !== '.tiff')
    throw new UsageError(`--debug-cor-file ${path}: the correlation stack is written as TIFF (.tif); got '${ext || '(none)'}'`);
  await writeImageStack(path, crossCorrelationAsStack(stack), { inputs });
  return path;
}

/** The same lazy stack, reporting each frame read (i.e. written out) as 'writing' progress. */
export function withFrameProgress<T extends ImageStack>(stack: T, progress: ProgressReporter | undefined): T {
  if (!progress) return stack;
  let done = 0;
  let started = false;
  return Object.assign(Object.create(Object.getPrototypeOf(stack)), stack, {
    async readFrame(index: number) {
      if (!started) {
        progress.start?.('writing', stack.frames);
        started = true;
      }
      const frame = await stack.readFrame(index);
      progress.update?.(++done);
      if (done === stack.frames) progress.stop?.();
      return frame;
    },
  });
}

/** The camera pixel size (nm) a table's metadata states (io/columnConventions.ts). */
export const tablePixelSizeNm = metadataPixelSizeNm;

/**
 * --pixel-size that disagrees with the pixel size the file states is an error unless --force
 * (Picasso's yaml is checked by its reader; this covers PYME's voxelsize).
 */
export function checkPixelSizeAgreement(input: string, metadata: Metadata, pixelSizeNm: number | undefined, force: boolean | undefined): void {
  if (pixelSizeNm === undefined || force) return;
  const stated = tablePixelSizeNm(metadata);
  if (stated !== undefined && Math.abs(stated - pixelSizeNm) > 1e-9 * stated) {
    throw new UsageError(
      `${input}: --pixel-size ${pixelSizeNm} nm disagrees with the file's own pixel size, ${+stated.toPrecision(12)} nm; drop --pixel-size, or add --force to override it`,
    );
  }
}
