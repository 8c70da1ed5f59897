import type { Command } from 'commander';
import { frameStatistics, type FrameStatistics } from '../../core/image/frameStatistics.js';
import type { ImageStack, LocTable, MetaValue } from '../../core/types.js';
import { extensionOf, readImageStack, readTable } from '../../io/index.js';
import { isImagePath } from '../../io/formats.js';
import { readDriftNpz } from '../../io/npz.js';
import { describeHdf5 } from '../../io/hdf5/index.js';
import { describeTiff } from '../../io/tiff.js';
import { parseNumberFlag } from '../flags.js';

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

function short(v: MetaValue): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 100 ? `${s.slice(0, 97)}…` : s;
}

export function describeTable(path: string, table: LocTable): string {
  const lines = [`${path}: localization table, ${table.length} rows, ${table.columns.size} columns`];
  const t = table.columns.get('t');
  if (t && t.length) {
    const [a, b] = range(t);
    lines.push(`  frames   ${fmt(a)} … ${fmt(b)} (${fmt(b - a + 1)} frames)`);
  }
  for (const axis of ['x', 'y', 'z']) {
    const c = table.columns.get(axis);
    if (c && c.length) {
      const [a, b] = range(c);
      lines.push(`  ${axis} extent ${fmt(a)} … ${fmt(b)} nm (${fmt(b - a)} nm)`);
    }
  }
  lines.push('  columns:');
  for (const [name, col] of table.columns) {
    const [a, b] = col.length ? range(col) : [NaN, NaN];
    lines.push(`    ${name.padEnd(22)} ${col.constructor.name.replace('Array', '').padEnd(8)} ${fmt(a)} … ${fmt(b)}`);
  }
  const meta = Object.entries(table.metadata);
  if (meta.length) {
    lines.push('  metadata:');
    for (const [k, v] of meta) lines.push(`    ${k} = ${short(v)}`);
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
    ...rows.map(([i, s]) => `    ${String(i).padStart(7)} ${[s.min, s.p1, s.median, s.p999, s.max, s.background, s.noiseSd].map((x) => v(x).padStart(10)).join(' ')}`),
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
    .description('what a file holds: rows, columns, frame range, extent, metadata (tables); samples (drift .npz); shape, dtype, voxel size and pixel statistics — pedestal, background, signal (images)')
    .argument('<file>')
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files without one', (v) => parseNumberFlag('pixel-size', v))
    .action(async (file: string, opts: { pixelSize?: number }) => {
      const ext = extensionOf(file);
      let text: string;
      if (ext === '.npz') {
        const d = await readDriftNpz(file);
        const n = d.t.length;
        text = [
          `${file}: drift samples (correction to add), ${n} samples`,
          `  t  ${fmt(d.t[0])} … ${fmt(d.t[n - 1])} frames`,
          ...(['x', 'y', 'z'] as const).map((a) => {
            const [lo, hi] = range(d[a]);
            return `  ${a}  ${lo.toFixed(2)} … ${hi.toFixed(2)} nm`;
          }),
        ].join('\n');
      } else if (describers.has(ext)) {
        text = await describers.get(ext)!(file);
        if (isImagePath(file) || ext === '.h5') {
          // An HDF5 file may hold localizations instead: then there are no pixels to describe.
          const stack = await readImageStack(file).catch(() => undefined);
          if (stack) text += `\n${await describeStackPixels(stack)}`;
        }
      } else {
        text = describeTable(file, await readTable(file, { pixelSizeNm: opts.pixelSize, progress: { warn: (m) => process.stderr.write(`ccdrift: warning: ${m}\n`) } }));
      }
      process.stdout.write(`${text}\n`);
    });
}
