/**
 * The I/O layer: one reader/writer per format, chosen by file extension. Formats register
 * themselves here (see `src/io/index.ts`); commands and recipes only call `readTable`,
 * `writeTable`, `readImageStack`, `writeImageStack`.
 */
import { extname } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import type { ImageStack, LocTable, ProgressReporter } from '../core/types.js';
import { writeAtomically } from './atomic.js';
import { checkPlausibleLocs } from '../core/drift/plausibleLocs.js';

export interface TableReadOptions {
  /** Camera pixel size in nm, for formats that store pixels (Picasso) when the file does not say. */
  pixelSizeNm?: number;
  /** Table name inside a container file (HDF5), when it holds several. */
  table?: string;
  /** Told how far a long read has come (stage 'reading'). */
  progress?: ProgressReporter;
  /** `pixelSizeNm` may differ from the pixel size the file states (--force); else that is an error. */
  overridePixelSize?: boolean;
}

export interface TableWriteOptions {
  pixelSizeNm?: number;
  /** The files the table came from: writing over them is refused. */
  inputs?: string[];
  /** Free text describing what produced the file (recorded where the format allows). */
  provenance?: Record<string, unknown>;
  /** Told how far a long write has come (stage 'writing', in rows). */
  progress?: ProgressReporter;
}

export interface TableFormat {
  name: string;
  /** Lower-case extensions with the dot, e.g. ['.csv']. */
  extensions: string[];
  read?(path: string, options: TableReadOptions): Promise<LocTable>;
  /**
   * Write `table` for `target`. Writers receive temporary paths (the atomic-write layer
   * renames them into place): `temporaryPaths[0]` is the main file, further entries are the
   * sidecars the format declared via `sidecars(target)`.
   */
  write?(temporaryPaths: string[], table: LocTable, options: TableWriteOptions, target: string): Promise<void>;
  /** Extra files written beside `target` (e.g. Picasso's .yaml). */
  sidecars?(target: string): string[];
}

export interface ImageFormat {
  name: string;
  extensions: string[];
  read?(path: string, options: { voxelSizeNm?: [number, number, number] }): Promise<ImageStack>;
  write?(temporaryPaths: string[], stack: ImageStack, options: { inputs?: string[] }, target: string): Promise<void>;
  sidecars?(target: string): string[];
}

const tableFormats: TableFormat[] = [];
const imageFormats: ImageFormat[] = [];

export function registerTableFormat(format: TableFormat): void {
  tableFormats.push(format);
}

export function registerImageFormat(format: ImageFormat): void {
  imageFormats.push(format);
}

/** Lower-case extension, treating `.hdf5`, `.h5r` etc. as one unit. */
export function extensionOf(path: string): string {
  return extname(path).toLowerCase();
}

function known(kind: 'table' | 'image'): string {
  const list = kind === 'table' ? tableFormats : imageFormats;
  return [...new Set(list.flatMap((f) => f.extensions))].join(', ');
}

export function findTableFormat(path: string, mode: 'read' | 'write'): TableFormat {
  const ext = extensionOf(path);
  const f = tableFormats.find((fmt) => fmt.extensions.includes(ext) && (mode === 'read' ? fmt.read !== undefined : fmt.write !== undefined));
  if (!f) {
    const hint = imageFormats.some((fmt) => fmt.extensions.includes(ext)) ? ` (${ext} is an image stack: use \`ccdrift images\`)` : '';
    throw new UsageError(`${path}: cannot ${mode} localization tables with extension '${ext || '(none)'}'; ` + `known: ${known('table') || '(none)'}${hint}`);
  }
  return f;
}

export function findImageFormat(path: string, mode: 'read' | 'write'): ImageFormat {
  const ext = extensionOf(path);
  const f = imageFormats.find((fmt) => fmt.extensions.includes(ext) && (mode === 'read' ? fmt.read !== undefined : fmt.write !== undefined));
  if (!f) {
    const hint = tableFormats.some((fmt) => fmt.extensions.includes(ext)) ? ` (${ext} holds localizations: use \`ccdrift locs\`)` : '';
    throw new UsageError(`${path}: cannot ${mode} image stacks with extension '${ext || '(none)'}'; known: ${known('image') || '(none)'}${hint}`);
  }
  return f;
}

export function isImagePath(path: string): boolean {
  const ext = extensionOf(path);
  return imageFormats.some((f) => f.extensions.includes(ext)) && !tableFormats.some((f) => f.extensions.includes(ext));
}

export async function readTable(path: string, options: TableReadOptions = {}): Promise<LocTable> {
  const f = findTableFormat(path, 'read');
  try {
    const table = await f.read!(path, options);
    if (table.length === 0) {
      // (The format readers give an empty table; a command or recipe can do nothing with it.)
      throw new InputError(`${path}: the file has columns (${[...table.columns.keys()].join(', ')}) but no localizations`);
    }
    const c = table.columns;
    checkPlausibleLocs({ x: c.get('x'), y: c.get('y'), z: c.get('z'), t: c.get('t') }, path);
    return table;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`${path}: no such file`);
    if ((err as NodeJS.ErrnoException).code && !(err as NodeJS.ErrnoException).path) (err as NodeJS.ErrnoException).path = path; // named in the message
    throw err;
  }
}

export async function writeTable(path: string, table: LocTable, options: TableWriteOptions = {}): Promise<string[]> {
  const f = findTableFormat(path, 'write');
  const targets = [path, ...(f.sidecars?.(path) ?? [])];
  await writeAtomically(targets, (temps) => f.write!(temps, table, options, path), options.inputs ?? []);
  return targets;
}

export async function readImageStack(path: string, options: { voxelSizeNm?: [number, number, number] } = {}): Promise<ImageStack> {
  const f = findImageFormat(path, 'read');
  return f.read!(path, options);
}

export async function writeImageStack(path: string, stack: ImageStack, options: { inputs?: string[] } = {}): Promise<string[]> {
  const f = findImageFormat(path, 'write');
  const targets = [path, ...(f.sidecars?.(path) ?? [])];
  await writeAtomically(targets, (temps) => f.write!(temps, stack, options, path), options.inputs ?? []);
  return targets;
}
