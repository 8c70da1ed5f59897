import type { Command } from 'commander';
import { statfsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { simulateLocalizations } from '../../core/simulate/simulateLocalizations.js';
import { simulateImageStack } from '../../core/simulate/simulateImageStack.js';
import { writeImageStack, writeTable } from '../../io/index.js';
import { writeDriftNpz } from '../../io/npz.js';
import { parseNumberFlag } from '../flags.js';
import { sayWritten, withDefaultSignalAction } from '../output.js';
import { accepts, checkOutputPlan } from '../outputPlan.js';
import { formatBytes } from '../../core/memoryLimit.js';

interface SimulateOptions {
  output: string;
  frames?: number;
  locs: number;
  dim: number;
  seed: number;
  field: number;
  beads: number;
  jumps?: string;
  quiet?: boolean;
  images?: boolean;
  pixel: number;
}

/** worms.csv → worms.truth.npz beside it. */
export function truthPathFor(output: string): string {
  return join(dirname(output), `${basename(output, extname(output))}.truth.npz`);
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('simulate a drifting SMLM dataset (wormlike filaments, blinking, known drift); writes the truth (.truth.npz) beside it')
    .requiredOption('-o, --output <file>', 'localization table to write (format from the extension)')
    .option('--images', 'simulate an image stack (time points of rendered filaments) instead of localizations')
    .option(
      '--pixel <nm>',
      'images: pixel size; 20 gives fine float32 frames, ≥ 50 camera-like uint16 frames (offset, background, Poisson noise)',
      (v) => parseNumberFlag('pixel', v),
      20,
    )
    .option('--frames <n>', 'frames (default 30000; 50 with --images)', (v) => parseNumberFlag('frames', v))
    .option('--locs <n>', 'localizations', (v) => parseNumberFlag('locs', v), 130000)
    .option('--dim <2|3>', '2D or 3D', (v) => parseNumberFlag('dim', v), 2)
    .option('--seed <n>', 'random seed', (v) => parseNumberFlag('seed', v), 1)
    .option('--field <nm>', 'side of the field of view (nm)', (v) => parseNumberFlag('field', v), 20000)
    .option('--jumps <frames>', 'sudden stage jumps at these frames, comma-separated')
    .option('--beads <n>', 'always-on fiducial beads (one localization per bead in every frame, besides --locs)', (v) => parseNumberFlag('beads', v), 0)
    .option('-q, --quiet', 'no messages')
    .action(async (opts: SimulateOptions) => {
      const frames = opts.frames ?? (opts.images ? 50 : 30000);
      checkSimulateFlags(opts, frames);
      const jumps = opts.jumps ? opts.jumps.split(',').map((s) => parseNumberFlag('jumps', s)) : [];
      for (const j of jumps) {
        if (!Number.isInteger(j) || j < 1 || j >= frames)
          throw new UsageError(`--jumps expects frames between 1 and ${frames - 1} (--frames ${frames}), got ${j}`);
      }
      // Plan, check, then work: both files are checked before anything is simulated.
      const truthPath = truthPathFor(opts.output);
      const check = opts.images ? accepts.image(opts.output) : accepts.table(opts.output);
      checkOutputPlan(
        [],
        [
          { path: opts.output, what: '-o', check },
          { path: truthPath, what: 'the true drift (beside -o)' },
        ],
      );
      if (opts.images) {
        const sim = simulateImageStack({ frames, pixelNm: opts.pixel, dim: opts.dim as 2 | 3, seed: opts.seed, jumps });
        const s = sim.stack;
        checkDiskSpace(
          opts.output,
          frames * s.width * s.height * s.depth * (s.dtype === 'uint16' ? 2 : 4),
          `${frames} time points of ${s.width}×${s.height}${s.depth > 1 ? `×${s.depth}` : ''} ${s.dtype} (--frames)`,
        );
        const written = await writeImageStack(opts.output, sim.stack);
        const truth = await writeDriftNpz(truthPath, sim.truth);
        sayWritten(
          opts,
          `wrote ${written.join(', ')} (${frames} time points of ${s.width}×${s.height}${s.depth > 1 ? `×${s.depth}` : ''} ${s.dtype}, ${opts.pixel} nm pixels) and ${truth} (the true drift)`,
        );
        return;
      }
      // Nothing is written while it runs: Ctrl-C ends it at once.
      const sim = withDefaultSignalAction(() =>
        simulateLocalizations({ frames, locs: opts.locs, dim: opts.dim as 2 | 3, seed: opts.seed, fieldNm: opts.field, jumps, beads: opts.beads }),
      );
      // CSV text takes about 12 bytes per number; the binary formats 8: the larger is asked of the disk.
      checkDiskSpace(opts.output, sim.table.length * sim.table.columns.size * 12, `${sim.table.length} localizations (--locs, --beads × --frames)`);
      const written = await writeTable(opts.output, sim.table);
      const truth = await writeDriftNpz(truthPath, sim.truth);
      sayWritten(
        opts,
        `wrote ${written.join(', ')} (${sim.table.length} localizations, ${frames} frames) and ${truth} (the true drift, correction convention)`,
      );
    });
}

/** Pixel sizes `simulate --images` accepts (nm). */
const PIXEL_RANGE_NM = [5, 1000] as const;

/** Every flag checked before anything is simulated, naming the flag, what it takes and what it got. */
function checkSimulateFlags(opts: SimulateOptions, frames: number): void {
  const whole = (flag: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} must be a whole number ≥ ${min}, got ${value}`);
  };
  if (opts.dim !== 2 && opts.dim !== 3) throw new UsageError(`--dim must be 2 or 3, got ${opts.dim}`);
  whole('frames', frames, 2);
  whole('seed', opts.seed, 0);
  if (opts.images) {
    // Frames are 256 or 128 pixels wide: the field must hold a drift of about 200 nm, and stay a sample of filaments.
    if (!(opts.pixel >= PIXEL_RANGE_NM[0] && opts.pixel <= PIXEL_RANGE_NM[1])) {
      throw new UsageError(
        `--pixel must be a pixel size between ${PIXEL_RANGE_NM[0]} and ${PIXEL_RANGE_NM[1]} nm (the frames are 256 or 128 pixels wide), got ${opts.pixel}`,
      );
    }
    return;
  }
  whole('locs', opts.locs, 1);
  whole('beads', opts.beads, 0);
  if (!(opts.field > 0) || !Number.isFinite(opts.field)) throw new UsageError(`--field must be the side of the field in nm, > 0, got ${opts.field}`);
}

/**
 * Refuse before the work an output that cannot fit on its disk (a file of terabytes from a
 * typo in --frames would otherwise run for hours and then fail): `bytes` is its estimated size.
 */
function checkDiskSpace(path: string, bytes: number, what: string): void {
  let free: number;
  try {
    const st = statfsSync(dirname(resolve(path)));
    free = st.bavail * st.bsize;
  } catch {
    return; // not every file system says
  }
  if (bytes > free) {
    throw new UsageError(
      `-o ${path}: ${what} would take about ${formatBytes(bytes)} on disk, but ${dirname(resolve(path))} has ${formatBytes(free)} free; simulate less`,
    );
  }
}
