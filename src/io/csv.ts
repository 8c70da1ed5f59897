/**
 * Localization tables as delimited text: ThunderSTORM's CSV export and generic tables.
 *
 * Reading rules (what a microscopist would expect, stated once):
 * - The first non-blank line is the header; its delimiter (comma, tab or semicolon) is sniffed
 *   from it: the most frequent of the three outside quotes (ties: comma, tab, semicolon).
 *   Header names may be quoted ("x [nm]", as ThunderSTORM writes them) or not.
 * - A header `name [unit]` carries a unit. Coordinates `x`, `y`, `z` (any case) are converted
 *   to nm: `nm` ×1, `um`/`µm`/`μm` ×1000, `px`/`pixel` × `pixelSizeNm` (required then). A
 *   coordinate header without a unit is taken as nm.
 * - Style: a table whose header has any `[unit]` is **ThunderSTORM style**, else **plain**.
 * - Time: a `t` column is the 0-based frame index as is. Without `t`, a `frame` column is
 *   ThunderSTORM's 1-based frame number (t = frame − 1) in ThunderSTORM style, and taken as a
 *   0-based frame index (Picasso's and PYME's convention) in plain style.
 * - `dx`, `dy`, `dz` (a correction ccdrift added earlier, `dx [nm]` in ThunderSTORM style) are
 *   read like coordinates, so a second correction composes with the first.
 * - Other columns are kept, unchanged, under their header text (`sigma [nm]`, `id`, …).
 *   Empty, `NaN` or `inf` cells are allowed there; x, y, t (and z) must be finite.
 * - With a semicolon delimiter a decimal comma (`1,5`) is accepted.
 *
 * Writing reproduces the input's style from the `ccdrift.csv.*` metadata the reader records:
 * the original header names and order, ThunderSTORM's 1-based `frame` (frame = t + 1),
 * quoting. Coordinates are always written in nm (a `x [um]` input comes back as `x [nm]`).
 * Columns the input did not have (e.g. `dx`, `dy`, `dz` from a correction) are appended, in
 * ThunderSTORM style with their unit (`dx [nm]`). Tables from other formats are written in
 * plain style (`x,y,z,t,…`). Numbers: float64 as the shortest text that parses back to the
 * same value (integers therefore without a decimal point), float32 as the shortest text that
 * parses back to the same float32, integer columns as integers. `.tsv` targets use tabs.
 *
 * Large files are streamed: read in chunks and parsed line by line into growable
 * Float64Arrays (a 10^7-row file never exists as one string), and written in blocks.
 *
 * The code: `csv/header.ts` (the header and its column plan), `csv/rows.ts` (data lines into
 * columns), `csv/read.ts` (streaming a file through both), `csv/write.ts`.
 */
import type { LocTable } from '../core/types.js';
import type { TableFormat, TableReadOptions, TableWriteOptions } from './formats.js';
import { readCsvTable } from './csv/read.js';
import { writeCsvTable } from './csv/write.js';

export { CSV_META, type CsvStyle } from './csv/header.js';
export { readCsvTable, type CsvReadOptions } from './csv/read.js';
export { writeCsvTable } from './csv/write.js';

/** The CSV/TSV table format for the registry (`src/io/index.ts`). */
export const csvFormat: TableFormat = {
  name: 'CSV (ThunderSTORM / generic)',
  extensions: ['.csv', '.tsv'],
  read: (path: string, options: TableReadOptions) => readCsvTable(path, options),
  write: (temporaryPaths: string[], table: LocTable, options: TableWriteOptions, target: string) =>
    writeCsvTable(temporaryPaths[0], table, target, options.progress),
};
