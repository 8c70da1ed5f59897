/** Writing a localization table as CSV/TSV text, in the input's style (rules: `../csv.ts`). */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { LocTable, Metadata, NumericArray, ProgressReporter } from '../../core/types.js';
import { writeFully } from '../atomic.js';
import { conventionOf, toConvention } from '../columnConventions.js';
import { MAX_NUMBER_BYTES, formatFloat32, writeFloat32, writeFloat64 } from '../csvNumbers.js';
import { COORDINATES, CORRECTIONS, CSV_META, splitUnit, type CsvStyle } from './header.js';

const WRITE_BLOCK_ROWS = 16384;
/** Bytes collected before each write. */
const WRITE_BUFFER_BYTES = 1 << 20;
/** Columns known to be in nm, labelled `[nm]` when appended to a ThunderSTORM-style table. */
const NM_COLUMNS = new Set(['x', 'y', 'z', 'dx', 'dy', 'dz']);

function quoteHeader(h: string, delimiter: string, always: boolean): string {
  return always || h.includes(delimiter) || h.includes('"') || h.includes('\n') ? `"${h.replace(/"/g, '""')}"` : h;
}

interface OutColumn {
  header: string;
  data: NumericArray;
  add: number;
}

function str(meta: Metadata, key: string): string | undefined {
  const v = meta[key];
  return typeof v === 'string' ? v : undefined;
}

function outputColumns(table: LocTable): { columns: OutColumn[]; quoted: boolean; delimiter?: string } {
  const meta = table.metadata;
  const style: CsvStyle = str(meta, CSV_META.style) === 'thunderstorm' ? 'thunderstorm' : 'plain';
  const rawSources = meta[CSV_META.sourceHeaders];
  const sources: Record<string, string> =
    rawSources && typeof rawSources === 'object' && !Array.isArray(rawSources)
      ? Object.fromEntries(Object.entries(rawSources).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  const frameBase = meta[CSV_META.frameBase] === 1 ? 1 : 0;
  const columns: OutColumn[] = [];
  for (const [name, data] of table.columns) {
    let header = name;
    let add = 0;
    const source = sources[name];
    if (name === 't') {
      header = source ?? 't';
      add = source ? frameBase : 0;
    } else if (([...COORDINATES, ...CORRECTIONS] as readonly string[]).includes(name) && source) {
      // Values are nm now: keep the input's header when it said nm or nothing, else relabel.
      const { base, unit } = splitUnit(source);
      header = unit === undefined || unit.toLowerCase() === 'nm' ? source : `${base} [nm]`;
    } else if (style === 'thunderstorm' && !source && NM_COLUMNS.has(name)) {
      header = `${name} [nm]`;
    }
    columns.push({ header, data, add });
  }
  return { columns, quoted: meta[CSV_META.quotedHeader] === true, delimiter: str(meta, CSV_META.delimiter) };
}

/**
 * Write `table` as delimited text to `path` (not atomic by itself: `writeTable` and the
 * format registry hand a temporary path). `target` (default `path`) picks the delimiter:
 * tab for `.tsv`, else the input's comma or semicolon, else comma.
 */
export async function writeCsvTable(path: string, source: LocTable, target: string = path, progress?: ProgressReporter): Promise<void> {
  // A ThunderSTORM table stays ThunderSTORM; any other is written plain, with PYME's names in nm.
  const table = conventionOf(source) === 'thunderstorm' ? source : toConvention(source, 'pyme');
  const { columns, quoted, delimiter: inputDelimiter } = outputColumns(table);
  const delimiter = extname(target).toLowerCase() === '.tsv' ? '\t' : inputDelimiter === ';' || inputDelimiter === ',' ? inputDelimiter : ',';
  for (const c of columns) {
    if (c.data.length !== table.length) {
      throw new RangeError(`table column '${c.header}' has ${c.data.length} values, the table ${table.length} rows`);
    }
  }
  const ncols = columns.length;
  const data = columns.map((c) => c.data);
  const add = columns.map((c) => c.add);
  // float32 columns get their own shortest rule; anything else is written as String(v) would.
  const float32 = columns.map((c) => c.data instanceof Float32Array);
  const delimiterCode = delimiter.charCodeAt(0);
  // Rows go as bytes into one buffer, written out when the next row might not fit.
  const rowBytes = ncols * (MAX_NUMBER_BYTES + 1) + 1;
  const out = new Uint8Array(Math.max(WRITE_BUFFER_BYTES, 2 * rowBytes));
  const limit = out.length - rowBytes;
  const fh = await open(path, 'w');
  progress?.start?.('writing', table.length);
  try {
    await writeFully(fh, columns.map((c) => quoteHeader(c.header, delimiter, quoted)).join(delimiter) + '\n');
    let pos = 0;
    for (let block = 0; block < table.length; block += WRITE_BLOCK_ROWS) {
      const stop = Math.min(table.length, block + WRITE_BLOCK_ROWS);
      for (let i = block; i < stop; i++) {
        if (pos > limit) {
          await writeFully(fh, out.subarray(0, pos));
          pos = 0;
        }
        for (let c = 0; c < ncols; c++) {
          if (c > 0) out[pos++] = delimiterCode;
          const v = data[c][i] + add[c];
          if (!float32[c]) pos = writeFloat64(out, pos, v);
          else if (add[c] === 0) pos = writeFloat32(out, pos, v);
          else {
            const text = formatFloat32(v);
            for (let j = 0; j < text.length; j++) out[pos++] = text.charCodeAt(j);
          }
        }
        out[pos++] = 10;
      }
      progress?.update?.(stop);
    }
    if (pos > 0) await writeFully(fh, out.subarray(0, pos));
  } finally {
    progress?.stop?.();
    await fh.close();
  }
}
