/** Reading a localization table from CSV/TSV text, streamed in chunks (rules: `../csv.ts`). */
import { open } from 'node:fs/promises';
import { InputError, UsageError } from '../../core/errors.js';
import type { LocTable } from '../../core/types.js';
import type { TableReadOptions } from '../formats.js';
import { decodeHeader, planColumns, type Plan } from './header.js';
import { RowParser } from './rows.js';

export interface CsvReadOptions extends TableReadOptions {
  /** Bytes read per chunk (tests use small chunks to exercise line boundaries). @default 4 MiB */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 4 << 20;

/** Files that are not text, by their first bytes: named so the user knows what they gave. */
const BINARY_SIGNATURES: [number[], string][] = [
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (give it the extension .hdf5 or .h5r)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (an .npz file?)'],
  [[0x49, 0x49, 0x2a, 0x00], 'a TIFF image (use `ccdrift images`)'],
  [[0x4d, 0x4d, 0x00, 0x2a], 'a TIFF image (use `ccdrift images`)'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a numpy .npy array'],
  [[0x1f, 0x8b], 'a gzip-compressed file (decompress it first: gunzip)'],
];

/**
 * Refuse, by the first chunk, a file that is not UTF-8 (or ASCII) text: UTF-16 (byte-order
 * mark or NUL bytes between ASCII letters), a known binary format, or bytes no text has.
 */
function checkTextBytes(path: string, head: Uint8Array): void {
  for (const [sig, what] of BINARY_SIGNATURES) {
    if (sig.every((b, i) => head[i] === b)) throw new InputError(`${path}: this is ${what}, not CSV text`);
  }
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  const n = Math.min(head.length, TEXT_SNIFF_BYTES);
  let nul = 0;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) nul++;
    else if (b < 9 || (b > 13 && b < 32 && b !== 27) || b === 127) control++;
  }
  if (utf16 || (n >= 4 && nul >= n / 4 && nul <= (3 * n) / 4 && (head[0] === 0 || head[1] === 0))) {
    throw new InputError(
      `${path}: the file is UTF-16 text${utf16 ? ` (byte-order mark ${head[0].toString(16).toUpperCase()} ${head[1].toString(16).toUpperCase()})` : ''}; ` +
        'CSV is read as UTF-8: save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 in.csv > out.csv)',
    );
  }
  if (nul > 0 || control > n / 100) {
    throw new InputError(`${path}: the file is binary, not CSV text (${nul} NUL and ${control} control bytes in its first ${n}); expected text such as x,y,t`);
  }
}
const TEXT_SNIFF_BYTES = 64 * 1024;

/** Read a localization table from CSV/TSV text (see the rules in `../csv.ts`). */
export async function readCsvTable(path: string, options: CsvReadOptions = {}): Promise<LocTable> {
  if (options.pixelSizeNm !== undefined && !(options.pixelSizeNm > 0 && Number.isFinite(options.pixelSizeNm))) {
    throw new UsageError(`pixel size must be a positive number of nm, got ${options.pixelSizeNm}`);
  }
  const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`${path}: no such file`, { cause: err });
    throw err;
  }
  try {
    const fileBytes = (await fh.stat()).size;
    let bytesDone = 0;
    options.progress?.start?.('reading', fileBytes);
    // buf[0, filled) holds bytes not yet parsed: at most one partial line plus a fresh chunk.
    let buf = new Uint8Array(2 * chunkBytes);
    let filled = 0;
    let lineNo = 0;
    let plan: Plan | null = null;
    let parser: RowParser | null = null;
    for (;;) {
      if (buf.length - filled < chunkBytes) {
        const grown = new Uint8Array(filled + 2 * chunkBytes); // a line longer than a chunk
        grown.set(buf.subarray(0, filled));
        buf = grown;
      }
      const { bytesRead } = await fh.read(buf, filled, chunkBytes, null);
      if (bytesDone === 0) checkTextBytes(path, buf.subarray(0, bytesRead));
      bytesDone += bytesRead;
      options.progress?.update?.(bytesDone);
      const eof = bytesRead === 0;
      filled += bytesRead;
      let start = 0; // (a byte-order mark is dropped by the decoder when the header is decoded)
      const stop = eof ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      while (start < stop) {
        let nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= stop) nl = stop;
        let end = nl;
        if (end > start && buf[end - 1] === 13) end--;
        lineNo++;
        // A byte-order mark before the header (the decoder would drop it, but the blank test would not).
        if (!parser && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
        let blank = true;
        for (let i = start; i < end && blank; i++) blank = buf[i] === 32 || buf[i] === 9;
        if (!blank) {
          if (!parser) {
            plan = planColumns(path, decodeHeader(buf.subarray(start, end)), options);
            // Size the columns from the line length in this first chunk: few or no reallocations.
            let lines = 0;
            for (let i = buf.indexOf(10, start); i >= 0 && i < filled; i = buf.indexOf(10, i + 1)) lines++;
            const bytesPerLine = Math.max(2, filled / Math.max(1, lines));
            const estimate = Math.ceil((fileBytes / bytesPerLine) * 1.05) + 16;
            parser = new RowParser(path, plan, Math.min(estimate, Math.ceil(fileBytes / 2) + 16));
          } else {
            parser.row(buf, start, end, lineNo);
          }
        }
        start = nl + 1;
      }
      buf.copyWithin(0, stop, filled);
      filled -= stop;
      if (eof) break;
    }
    if (!parser || !plan) throw new InputError(`${path}: the file is empty; expected a header row such as x,y,t`);
    const columns = parser.finish();
    const tCol = plan.columns.find((c) => c.name === 't');
    if (tCol && tCol.offset === -1) {
      // ThunderSTORM numbers frames from 1; a frame 0 says this file does not.
      const t = columns.get('t')!;
      let lowest = Infinity;
      for (let i = 0; i < t.length; i++) if (t[i] < lowest) lowest = t[i];
      if (lowest < 0) {
        options.progress?.warn?.(
          `${path}: column '${tCol.header}' has frame ${lowest + 1}, but ThunderSTORM numbers frames from 1 (read as t = frame − 1, so t = ${lowest}); ` +
            `if this file numbers frames from 0, rename the column to 't'`,
        );
      }
    }
    return { length: parser.length, columns, metadata: plan.metadata, convention: plan.style === 'thunderstorm' ? 'thunderstorm' : 'pyme' };
  } finally {
    options.progress?.stop?.();
    await fh.close();
  }
}
