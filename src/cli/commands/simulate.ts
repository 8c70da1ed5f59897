import type { Command } from 'commander';
import { basename, dirname, extname, join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { simulateLocalizations } from '../../core/simulate/simulateLocalizations.js';
import { simulateImageStack } from '../../core/simulate/simulateImageStack.js';
import { writeImageStack, writeTable } from '../../io/index.js';
import { writeDriftNpz } from '../../io/npz.js';
import { parseNumberFlag } from '../flags.js';
import { say, sayWritten } from '../output.js';

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
  pixel?: number;
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
    .option('--pixel <nm>', 'images: pixel size; 20 gives fine float32 frames, ≥ 50 camera-like uint16 frames (offset, background, Poisson noise)', (v) => parseNumberFlag('pixel', v), 20)
    .option('--frames <n>', 'frames (default 30000; 50 with --images)', (v) => parseNumberFlag('frames', v))
    .option('--locs <n>', 'localizations', (v) => parseNumberFlag('locs', v), 130000)
    .option('--dim <2|3>', '2D or 3D', (v) => parseNumberFlag('dim', v), 2)
    .option('--seed <n>', 'random seed', (v) => parseNumberFlag('seed', v), 1)
    .option('--field <nm>', 'side of the field of view (nm)', (v) => parseNumberFlag('field', v), 20000)
    .option('--jumps <frames>', 'sudden stage jumps at these frames, comma-separated')
    .option('--beads <n>', 'always-on fiducial beads (one localization per bead in every frame, besides --locs)', (v) => parseNumberFlag('beads', v), 0)
    .option('-q, --quiet', 'no messages')
    .action(async (opts: SimulateOptions) => {
      if (opts.dim !== 2 && opts.dim !== 3) throw new UsageError(`--dim must be 2 or 3, got ${opts.dim}`);
      if (opts.images) {
        const frames = opts.frames ?? 50;
        const sim = simulateImageStack({ frames, pixelNm: opts.pixel, dim: opts.dim as 2 | 3, seed: opts.seed });
        const written = await writeImageStack(opts.output, sim.stack);
        const truth = await writeDriftNpz(truthPathFor(opts.output), sim.truth);
        const s = sim.stack;
        sayWritten(opts, `wrote ${written.join(', ')} (${frames} time points of ${s.width}×${s.height}${s.depth > 1 ? `×${s.depth}` : ''} ${s.dtype}, ${opts.pixel} nm pixels) and ${truth} (the true drift)`);
        return;
      }
      opts.frames ??= 30000;
      if (!Number.isInteger(opts.frames) || opts.frames < 2) throw new UsageError(`--frames must be a whole number ≥ 2, got ${opts.frames}`);
      if (!Number.isInteger(opts.locs) || opts.locs < 1) throw new UsageError(`--locs must be a whole number ≥ 1, got ${opts.locs}`);
      const jumps = opts.jumps ? opts.jumps.split(',').map((s) => parseNumberFlag('jumps', s)) : [];
      const sim = simulateLocalizations({ frames: opts.frames, locs: opts.locs, dim: opts.dim as 2 | 3, seed: opts.seed, fieldNm: opts.field, jumps, beads: opts.beads });
      const written = await writeTable(opts.output, sim.table);
      const truth = await writeDriftNpz(truthPathFor(opts.output), sim.truth);
      sayWritten(opts, `wrote ${written.join(', ')} (${sim.table.length} localizations, ${opts.frames} frames) and ${truth} (the true drift, correction convention)`);
    });
}
