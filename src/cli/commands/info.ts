import type { Command } from 'commander';
import { frameStatistics, type FrameStatistics } from '../../core/image/frameStatistics.js';
import type { ImageStack, LocTable } from '../../core/types.js';
import { extensionOf, readImageStack, readTable } from '../../io/index.js';
import { isImagePath } from '../../io/formats.js';
import { open, readFile } from 'node:fs/promises';
import { CSV_META } from '../../io/csv.js';
import { readDriftFile } from '../../io/driftFiles.js';
import { npzKeys } from '../../io/npy.js';
import { describeColumns, describeMetadata } from '../../io/hdf5/describeHdf5.js';
import { describeHdf5 } from '../../io/hdf5/index.js';
import { describeTiff } from '../../io/tiff.js';
import { parsePositiveFlag } from '../flags.js';
import { UsageError } from '../../core/errors.js';

/** Describers for container formats (HDF5, TIFF) register here; tables and .npz are built in. */
export const describers = new Map<string, (path: string) => Promise<string>>([
  ['.hdf', describeHdf5],
  ['.h5r', describeHdf5],
  ['.hdf5', describeHdf5],
  ['.h5', describeHdf5],
  ['.tif', describeTiff],
  ['.tiff', describeTiff],
]);

function range(v: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  return [lo, hi];
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6));

/** A CSV whose header is exactly ccdrift's per-frame drift (t|frame, x, y[, z]). */
async function looksLikePerFrameDrift(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const buf = new Uint8Array(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    const header = new TextDecoder().decode(buf.subarray(0, bytesRead)).split(/\r?\n/)[0].trim().toLowerCase();
    return /^(t|frame),x,y(,z)?$/.test(header);
  } finally {
    await fh.close();
  }
}

/** A table read by readTable (CSV/TSV), in the layout of every other format (describeHdf5). */
export function describeTable(path: string, table: LocTable): string {
  const style = table.metadata[CSV_META.style];
  const kind = style === 'thunderstorm' ? 'ThunderSTORM CSV localizations' : style === 'plain' ? 'CSV localizations' : 'localizations';
  const frameBase = table.metadata[CSV_META.frameBase] === 1;
  return [
    `${path}: ${kind}${frameBase ? ' (frames counted from 1 in the file; t = frame − 1 here)' : ''}`,
    `  rows: ${table.length.toLocaleString('en-US')}`,
    ...describeColumns(table, 'nm'),
    ...describeMetadata(table.metadata),
  ].join('\n');
}

/** A drift file (any kind ccdrift reads), in the same layout. */
export async function describeDriftFile(path: string, pixelSizeNm: number | undefined): Promise<string> {
  const kinds: Record<string, string> = {
    npz: 'drift samples (numpy .npz; the correction to add, nm)',
    'picasso-txt': 'Picasso drift (.txt; the drift Picasso subtracts — shown here as the correction to add, nm)',
    csv: 'per-frame drift (.csv; the correction to add, nm)',
    'thunderstorm-json': 'ThunderSTORM drift (.json; the drift ThunderSTORM subtracts — shown here as the correction to add, nm)',
  };
  // A pixel-unit file without a pixel size is shown in pixels (x, y) rather than refused.
  let unit = 'nm';
  const file = await readDriftFile(path, { pixelSizeNm }).catch(async (err: unknown) => {
    if (!(err instanceof UsageError) || pixelSizeNm !== undefined) throw err;
    unit = 'px';
    return readDriftFile(path, { pixelSizeNm: 1 });
  });
  const d = file.trace;
  const n = d.t.length;
  const lines = [`${path}: ${kinds[file.kind]}`, `  ${file.perFrame ? 'rows (one per frame)' : 'samples'}: ${n.toLocaleString('en-US')}`];
  if (unit === 'px') lines.push('  pixel size: unknown (give --pixel-size): x, y shown in camera pixels');
  lines.push(`  frames: ${fmt(d.t[0] + file.frameBase)} – ${fmt(d.t[n - 1] + file.frameBase)}${file.frameBase ? ' (counted from 1)' : ''}`);
  for (const a of ['x', 'y', 'z'] as const) {
    const [lo, hi] = range(d[a]);
    lines.push(`  ${a}: ${lo.toFixed(2)} – ${hi.toFixed(2)} ${a === 'z' ? 'nm' : unit}`);
  }
  if (d.sd) lines.push('  standard errors: yes (drift_sd)');
  if (d.breaks?.length) lines.push(`  breaks at frames: ${Array.from(d.breaks).join(', ')}`);
  if (file.kind === 'npz') {
    const others = npzKeys(await readFile(path), path).filter((k) => !['tIndex', 'drift', 'drift_sd', 'breaks'].includes(k));
    if (others.length) lines.push(`  other entries (not drift): ${others.join(', ')}`);
  }
  return lines.join('\n');
}

/** Frames whose pixel statistics `info` prints (evenly spread, first and last included). */
export const INFO_SAMPLE_FRAMES = 8;

/**
 * Pixel statistics of an image stack: order statistics and the robust background of sampled
 * frames, and what they say about the camera pedestal (issue 8) — the numbers to choose
 * --threshold-lower/--clip-to-lower by, or to see what --background auto removes.
 */
export async function describeStackPixels(stack: ImageStack): Promise<string> {
  const count = Math.min(stack.frames, INFO_SAMPLE_FRAMES);
  const rows: [number, FrameStatistics][] = [];
  for (let k = 0; k < count; k++) {
    const i = count === 1 ? 0 : Math.round((k * (stack.frames - 1)) / (count - 1));
    rows.push([i, frameStatistics(await stack.readFrame(i), stack.width, stack.height, stack.depth)]);
  }
  const v = (x: number) => (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  const cols = ['min', 'p1', 'median', 'p99.9', 'max', 'background', 'noise sd'];
  const lines = [
    `  pixel statistics (counts) of ${count} of ${stack.frames} frames:`,
    `    ${'frame'.padStart(7)} ${cols.map((c) => c.padStart(10)).join(' ')}`,
    ...rows.map(
      ([i, s]) => `    ${String(i).padStart(7)} ${[s.min, s.p1, s.median, s.p999, s.max, s.background, s.noiseSd].map((x) => v(x).padStart(10)).join(' ')}`,
    ),
  ];
  const mid = (f: (s: FrameStatistics) => number) => rows.map(([, s]) => f(s)).sort((a, b) => a - b)[rows.length >> 1];
  const background = mid((s) => s.background);
  const noise = mid((s) => s.noiseSd);
  const signal = mid((s) => s.p999 - s.background);
  const low = mid((s) => s.p1);
  lines.push(
    `  offset + background: ~${v(background)} counts under the structure (noise sd ${v(noise)}; 1st percentile ${v(low)}), ` +
      `signal up to ~${v(signal)} counts above it (99.9th percentile)` +
      (Math.abs(background) > 3 * Math.max(noise, 1e-9) ? '; images removes it by default (--background auto)' : ''),
  );
  return lines.join('\n');
}

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description(
      'what a file holds, in one layout: rows, columns, frame range, extent, metadata (tables); samples or frames (drift .npz/.txt/.csv/.json); shape, dtype, voxel size and pixel statistics — pedestal, background, signal (images)',
    )
    .argument('<file>')
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files without one', (v) => parsePositiveFlag('pixel-size', v))
    .action(async (file: string, opts: { pixelSize?: number }) => {
      const ext = extensionOf(file);
      let text: string;
      if (ext === '.npz' || ext === '.txt' || ext === '.json' || (ext === '.csv' && (await looksLikePerFrameDrift(file)))) {
        text = await describeDriftFile(file, opts.pixelSize);
      } else if (describers.has(ext)) {
        text = await describers.get(ext)!(file);
        if (isImagePath(file) || ext === '.h5') {
          // An HDF5 file may hold localizations instead: then there are no pixels to describe.
          const stack = await readImageStack(file).catch(() => undefined);
          if (stack) text += `\n${await describeStackPixels(stack)}`;
        }
      } else {
        text = describeTable(
          file,
          await readTable(file, { pixelSizeNm: opts.pixelSize, progress: { warn: (m) => process.stderr.write(`ccdrift: warning: ${m}\n`) } }),
        );
      }
      process.stdout.write(`${text}\n`);
    });
}
