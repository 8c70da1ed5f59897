/**
 * Saving recipe outputs (issue 5 §3): by default every output no module reads goes to the
 * output directory under its slot name; `--save SLOT=PATH` picks any slot. The file format
 * follows the value: tables via writeTable, image stacks via writeImageStack, drift samples
 * as numpy .npz, plots as PNG/SVG, the cross-correlation debug stack as an image (TIFF).
 * Every table and image written records the recipe (PYME's `Pipeline.Recipe`) and the
 * ccdrift version in its metadata.
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { sourceDescription } from '../core/image/derivedStack.js';
import { sampleDriftPerFrame } from '../core/drift/driftInterpolator.js';
import type { DriftInterpolator, DriftTrace, ImageStack, LocTable, Metadata } from '../core/types.js';
import { writePerFrameDriftCsv } from '../io/driftText.js';
import { extensionOf, findImageFormat, findTableFormat, writeImageStack, writeTable } from '../io/formats.js';
import { writeDriftNpz } from '../io/npz.js';
import { PLOT_EXTENSIONS, writeDriftPlot } from '../io/plotFile.js';
import type { DriftPlotData } from '../plot/driftPlot.js';
import { VERSION } from '../version.js';
import type { CrossCorrelationStack } from './modules/locsRcc.js';
import type { RecipePlan, RecipeStep } from './parseRecipe.js';
import { closestNames, RecipeError, type RecipeProblem } from './recipeErrors.js';
import type { RecipeSink } from './runRecipe.js';

/** What a slot holds, as far as saving is concerned. */
export type SlotValueKind = 'table' | 'image' | 'drift' | 'interpolator' | 'plot' | 'cross-correlation' | 'file' | 'empty' | 'other';

export function kindOfValue(v: unknown): SlotValueKind {
  if (v === undefined || v === null) return 'empty';
  if (typeof v === 'string') return 'file';
  if (typeof v !== 'object') return 'other';
  const o = v as Record<string, unknown>;
  if (o.columns instanceof Map) return 'table';
  if (typeof o.readFrame === 'function') return 'image';
  if (typeof o.evaluate === 'function') return 'interpolator';
  if (o.t instanceof Float64Array && o.x instanceof Float64Array) return 'drift';
  if (Array.isArray(o.images) && o.pairs instanceof Int32Array) return 'cross-correlation';
  if (Array.isArray(o.sources)) return 'plot';
  return 'other';
}

/** What was written, and what was not and why. */
export interface SaveRecord {
  slot: string;
  files?: string[];
  reason?: string;
}

export interface SaveOptions {
  /** Directory for the default saves (every output no module reads); none when absent. */
  outDir?: string;
  /** Slot → file, relative to `cwd`. */
  saves?: Record<string, string>;
  /** Slots not to save by default. */
  skip?: string[];
  /** The loaded file: its format names default table/image files, and it is never overwritten. */
  inputPath?: string;
  /** Relative paths resolve against this. */
  cwd: string;
  /** The recipe as YAML, recorded in every table and image written. */
  recipeText: string;
  /** Camera pixel size (nm) for formats in pixels (Picasso). */
  pixelSizeNm?: number;
}

export interface SavePlan {
  /** Slot → absolute path chosen by the user. */
  explicit: Map<string, string>;
  /** Slots saved under a default name in `outDir`. */
  defaults: Set<string>;
  /** Every slot to hand to the saver (explicit ∪ defaults). */
  wanted: Set<string>;
  /** Unread outputs that are not saved by default, and why. */
  notByDefault: SaveRecord[];
}

function writerExists(find: () => unknown): boolean {
  try {
    find();
    return true;
  } catch {
    return false;
  }
}

/** Can some writer produce a file with this extension? */
function writableExtension(path: string): boolean {
  const ext = extensionOf(path);
  return (
    ext === '.npz' ||
    ext === '.csv' ||
    (PLOT_EXTENSIONS as readonly string[]).includes(ext) ||
    writerExists(() => findTableFormat(path, 'write')) ||
    writerExists(() => findImageFormat(path, 'write'))
  );
}

/**
 * Which slots are saved where. Checks (before anything runs) that every `--save` slot exists
 * and every explicit path has a writable extension.
 */
export function planSaves(plan: RecipePlan, options: SaveOptions): SavePlan {
  const problems: RecipeProblem[] = [];
  const allSlots = [...plan.initialSlots, ...plan.producers.keys()];
  const known = new Set(allSlots);
  const explicit = new Map<string, string>();
  const checkPath = (path: string, what: string, item?: number, module?: string) => {
    if (!writableExtension(path)) {
      problems.push({
        kind: 'invalid-value',
        item,
        module,
        message: `${what}: no writer for '${extensionOf(path) || '(no extension)'}' (${path}); use .npz, .csv, .png, .svg or a table/image format`,
      });
    }
  };
  for (const [slot, path] of Object.entries(options.saves ?? {})) {
    if (!known.has(slot)) {
      const near = closestNames(slot, allSlots);
      problems.push({
        kind: 'unknown-slot',
        message: `--save ${slot}=…: no slot '${slot}' in the recipe${near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(' or ')}?` : ''}; slots: ${allSlots.join(', ')}`,
      });
      continue;
    }
    checkPath(path, `--save ${slot}`);
    explicit.set(slot, isAbsolute(path) ? path : resolve(options.cwd, path));
  }
  for (const slot of options.skip ?? []) {
    if (!known.has(slot)) problems.push({ kind: 'unknown-slot', message: `--skip ${slot}: no slot '${slot}' in the recipe; slots: ${allSlots.join(', ')}` });
  }
  for (const step of plan.items) {
    for (const [name, p] of Object.entries(step.decl.params)) {
      const v = step.params[name];
      if (p.savesOutput && typeof v === 'string' && v !== '') checkPath(v, name, step.item, step.written);
    }
  }
  if (problems.length) throw new RecipeError(problems, 'the outputs asked for');

  const defaults = new Set<string>();
  const notByDefault: SaveRecord[] = [];
  const skip = new Set(options.skip ?? []);
  for (const [slot, step] of plan.producers) {
    if (plan.consumers.has(slot) || explicit.has(slot)) continue;
    const param = Object.entries(step.outputs).find(([, s]) => s === slot)![0];
    if (step.decl.outputs[param]?.onRequest) {
      const debug = param === 'output_cross_cor';
      notByDefault.push({
        slot,
        reason: `${debug ? 'debug' : 'optional'} output, made only on request (--save ${slot}=FILE${debug ? '.tif or debug_cor_file' : ''})`,
      });
    } else if (skip.has(slot)) notByDefault.push({ slot, reason: 'skipped (--skip)' });
    else if (!options.outDir) notByDefault.push({ slot, reason: 'no output directory (-o DIR) given' });
    else defaults.add(slot);
  }
  return { explicit, defaults, wanted: new Set([...explicit.keys(), ...defaults]), notByDefault };
}

/** Output parameters whose kind of value their name says (the modules share these names). */
const KIND_OF_OUTPUT: Record<string, SlotValueKind> = {
  output_drift: 'drift',
  output_drift_plot: 'plot',
  output_drift_interpolator: 'interpolator',
  output_cross_cor: 'cross-correlation',
  output_markers: 'table',
  output_dummy: 'file',
};

/**
 * What each slot will hold, known before anything runs (for planning the default file names):
 * the loaded data's kind for the initial slots, the kind an output's name says, else (a
 * corrected or filtered table or stack) the kind of the step's data input. 'other' when unknown.
 */
export function predictSlotKinds(plan: RecipePlan, initialKind: 'table' | 'image'): Map<string, SlotValueKind> {
  const kinds = new Map<string, SlotValueKind>(plan.initialSlots.map((s) => [s, initialKind]));
  for (const step of plan.steps) {
    const data = Object.values(step.inputs)
      .map((slot) => kinds.get(slot))
      .find((k) => k === 'table' || k === 'image');
    for (const [param, slot] of Object.entries(step.outputs)) kinds.set(slot, KIND_OF_OUTPUT[param] ?? data ?? 'other');
  }
  return kinds;
}

/**
 * The files the default saves (`-o DIR`) will write, named before the data is read so that
 * they can be checked (cli/outputPlan.ts): slot → absolute path. Slots whose kind cannot be
 * known beforehand are left out (checked when saved).
 */
export function plannedDefaultFiles(plan: RecipePlan, savePlan: SavePlan, options: SaveOptions, initialKind: 'table' | 'image'): Map<string, string> {
  const files = new Map<string, string>();
  if (!options.outDir) return files;
  const kinds = predictSlotKinds(plan, initialKind);
  const dir = resolve(options.cwd, options.outDir);
  for (const slot of savePlan.defaults) {
    const name = defaultFileNameOfKind(slot, kinds.get(slot) ?? 'other', options.inputPath);
    if ('name' in name) files.set(slot, join(dir, name.name));
  }
  return files;
}

/** Extension for a default table file: the input's format when writable, else PYME .hdf, else CSV. */
function tableExtension(inputPath: string | undefined): string {
  for (const candidate of [inputPath, 'x.hdf', 'x.csv']) {
    if (candidate && writerExists(() => findTableFormat(candidate, 'write'))) return extensionOf(candidate);
  }
  return '.csv';
}

function imageExtension(inputPath: string | undefined): string | undefined {
  for (const candidate of [inputPath, 'x.h5', 'x.tif']) {
    if (candidate && writerExists(() => findImageFormat(candidate, 'write'))) return extensionOf(candidate);
  }
  return undefined;
}

/** The default file name of a slot's value, or why it is not saved by default. */
export function defaultFileName(slot: string, value: unknown, inputPath?: string): { name: string } | { reason: string } {
  const kind = kindOfValue(value);
  return kind === 'file' ? { reason: `the module wrote ${String(value)} itself` } : defaultFileNameOfKind(slot, kind, inputPath);
}

/** The default file name of a slot holding a value of this kind, or why it is not saved by default. */
export function defaultFileNameOfKind(slot: string, kind: SlotValueKind, inputPath?: string): { name: string } | { reason: string } {
  switch (kind) {
    case 'table':
      return { name: slot + tableExtension(inputPath) };
    case 'image': {
      const ext = imageExtension(inputPath);
      return ext ? { name: slot + ext } : { reason: 'no image writer is registered' };
    }
    case 'drift':
      return { name: `${slot}.npz` };
    case 'plot':
      return { name: `${slot}.png` };
    case 'cross-correlation':
      return writerExists(() => findImageFormat('x.tif', 'write')) ? { name: `${slot}.tif` } : { reason: 'no TIFF writer is registered' };
    case 'interpolator':
      return { reason: `a drift interpolator is not saved by default (--save ${slot}=FILE.csv or .npz writes it per frame)` };
    case 'file':
      return { reason: 'the module writes its file itself' };
    case 'empty':
      return { reason: 'the module did not produce it' };
    default:
      return { reason: 'no file format for this kind of value' };
  }
}

/** Metadata recording what produced a file (PYME keeps the recipe under `Pipeline.Recipe`). */
export function provenanceMetadata(recipeText: string, inputPath?: string): Metadata {
  return {
    'Pipeline.Recipe': recipeText,
    'ccdrift.version': VERSION,
    'ccdrift.command': 'run',
    ...(inputPath ? { 'ccdrift.input': inputPath } : {}),
  };
}

/** The debug stack as an image stack: one frame per pair, the pairs (i, j) in metadata. */
export function crossCorrelationAsStack(cc: CrossCorrelationStack, metadata: Metadata = {}): ImageStack {
  const pairs: [number, number][] = [];
  for (let k = 0; k + 1 < cc.pairs.length; k += 2) pairs.push([cc.pairs[k], cc.pairs[k + 1]]);
  return {
    width: cc.shape[0],
    height: cc.shape[1],
    depth: cc.shape[2],
    frames: cc.images.length,
    dtype: 'float32',
    voxelSizeNm: [...cc.pixelSizeNm],
    metadata: { ...metadata, 'ccdrift.correlation_pairs': pairs },
    readFrame: async (i: number) => cc.images[i],
  };
}

/** Write one slot value to `path` (format from its kind and the extension). Returns the files written. */
export async function saveSlotValue(path: string, value: unknown, options: SaveOptions): Promise<string[]> {
  const inputs = options.inputPath ? [options.inputPath] : [];
  const meta = provenanceMetadata(options.recipeText, options.inputPath);
  const kind = kindOfValue(value);
  const ext = extensionOf(path);
  switch (kind) {
    case 'table': {
      // Provenance goes into a copy of the metadata: the value in the slot is not changed.
      const source = value as LocTable;
      const table: LocTable = { ...source, metadata: { ...source.metadata, ...meta } };
      const record = { software: 'ccdrift', version: VERSION, command: 'run', input: options.inputPath ?? null, recipe: options.recipeText };
      return writeTable(path, table, { inputs, pixelSizeNm: options.pixelSizeNm, provenance: record });
    }
    case 'image': {
      const s = value as ImageStack;
      const stack: ImageStack = {
        width: s.width,
        height: s.height,
        depth: s.depth,
        frames: s.frames,
        dtype: s.dtype,
        voxelSizeNm: s.voxelSizeNm,
        metadata: { ...s.metadata, ...meta },
        ...sourceDescription(s),
        readFrame: (i) => s.readFrame(i),
      };
      return writeImageStack(path, stack, { inputs });
    }
    case 'cross-correlation':
      return writeImageStack(path, crossCorrelationAsStack(value as CrossCorrelationStack, meta), { inputs });
    case 'drift':
    case 'interpolator': {
      let trace: DriftTrace;
      if (kind === 'drift') trace = value as DriftTrace;
      else {
        const interp = value as DriftInterpolator;
        trace = sampleDriftPerFrame(interp, Math.floor(interp.range[0]), Math.ceil(interp.range[1]));
      }
      if (ext === '.csv') return [await writePerFrameDriftCsv(path, trace, { inputs })];
      if (ext === '.npz' || ext === '') return [await writeDriftNpz(path, trace, { inputs })];
      throw new UsageError(`${path}: drift is written as .npz (numpy, the original's format) or .csv (t,x,y,z nm); got '${ext}'`);
    }
    case 'plot':
      await writeDriftPlot(path, value as DriftPlotData);
      return [path];
    case 'file':
      throw new UsageError(`${path}: this slot only names the file its module wrote (${String(value)}); nothing to save`);
    case 'empty':
      throw new UsageError(`${path}: the slot is empty (its module did not produce it)`);
    default:
      throw new UsageError(`${path}: no file format for this slot's value`);
  }
}

/** A RecipeSink that saves as planned, recording what it wrote and what it left. */
export function createSaveSink(
  savePlan: SavePlan,
  options: SaveOptions,
  planned: { defaults: ReadonlyMap<string, string>; check: (path: string, slot: string) => void } = { defaults: new Map(), check: () => {} },
): RecipeSink & { records: SaveRecord[] } {
  const records: SaveRecord[] = [...savePlan.notByDefault];
  return {
    records,
    async slot(slot: string, value: unknown) {
      let path = savePlan.explicit.get(slot);
      if (!path) {
        const name = defaultFileName(slot, value, options.inputPath);
        if ('reason' in name) {
          records.push({ slot, reason: name.reason });
          return;
        }
        const dir = resolve(options.cwd, options.outDir!);
        await mkdir(dir, { recursive: true });
        path = join(dir, name.name);
        // A name the plan could not foresee is checked now (still before anything is committed).
        if (planned.defaults.get(slot) !== path) planned.check(path, slot);
      }
      records.push({ slot, files: await saveSlotValue(path, value, options) });
    },
    async moduleFile(path: string, value: unknown, step: RecipeStep, output: string) {
      const target = isAbsolute(path) ? path : resolve(options.cwd, path);
      records.push({ slot: `${step.outputs[output]} (item ${step.item})`, files: await saveSlotValue(target, value, options) });
    },
  };
}
