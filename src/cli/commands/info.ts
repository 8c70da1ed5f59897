import type { Command } from 'commander';
import type { LocTable, MetaValue } from '../../core/types.js';
import { extensionOf, readTable } from '../../io/index.js';
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

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('what a file holds: rows, columns, frame range, extent, metadata (tables); samples (drift .npz); shape, dtype, voxel size (images)')
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
      } else {
        text = describeTable(file, await readTable(file, { pixelSizeNm: opts.pixelSize }));
      }
      process.stdout.write(`${text}\n`);
    });
}
