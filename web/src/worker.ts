/**
 * The app's numerics, off the page's thread: reads the picked files with the CLI's readers
 * (src/io, on the Emscripten FS of h5wasm: see shims/vfs.ts), runs the plans `ccdrift locs` /
 * `ccdrift images` / `ccdrift apply` run, built by the same code (src/recipes/plans.ts) with the
 * same parameters and run by the same runner as `ccdrift run` (runRecipe), and writes the same
 * files, which go back to the page as bytes (the plan too, as a recipe `ccdrift run` repeats).
 * Cancel = the page terminates this worker.
 */
import './shims/process.js';
import h5wasm from 'h5wasm';
import { UsageError } from '../../src/core/errors.js';
import { sampleDriftPerFrame } from '../../src/core/drift/driftInterpolator.js';
import type { DriftInterpolator, DriftTrace, ImageStack, LocTable, NumericArray, ProgressReporter } from '../../src/core/types.js';
import { encodeDriftNpz, decodeDriftNpz } from '../../src/io/driftNpzCodec.js';
import { extensionOf, findTableFormat, isImagePath, readImageStack, readTable, writeImageStack, writeTable } from '../../src/io/index.js';
import { provenanceOf, writePerFrameOutputs } from '../../src/cli/output.js';
import { isSlotValue, type RunContext, type SlotKind, type SlotValues } from '../../src/recipes/declare.js';
import { driftInterpolate, interpolatorPlot, splineParams } from '../../src/recipes/modules/driftInterpolate.js';
import { driftLoadInterpolate } from '../../src/recipes/modules/driftLoadInterpolate.js';
import { imagePostShift } from '../../src/recipes/modules/imagePostShift.js';
import { imagePreClipFilter } from '../../src/recipes/modules/imagePreClipFilter.js';
import { imagePreDownsample } from '../../src/recipes/modules/imagePreDownsample.js';
import { imageRcc } from '../../src/recipes/modules/imageRcc.js';
import { locsRcc } from '../../src/recipes/modules/locsRcc.js';
import { loadPffft } from '../../src/core/fft/pffft.js';
import { createPoolExecutor, MAX_POOL_WORKERS, warmPool } from './poolExecutor.js';
import { optionalNumber, paramsFromForm, parseTriple, type FormValues } from './params.js';
import type { FromWorker, OutputFile, Picture, Result, Summary, ToWorker } from './protocol.js';
import { setCwd } from './shims/path.js';
import { installBrowserPlugins } from './shims/h5wasmPlugins.js';
import { setVfs, vfs, type EmscriptenFs } from './shims/vfs.js';
import { removeSync } from './shims/fsPromises.js';
import { formatRecipe, parseRecipe, type RecipePlan } from '../../src/recipes/parseRecipe.js';
import { disposeSlotValue, runRecipe, slotValue } from '../../src/recipes/runRecipe.js';
import {
  APPLY_SLOTS,
  buildApplyPlan,
  buildImagesPlan,
  buildLocsPlan,
  downsampleChanges,
  IMAGE_SLOT,
  IMAGES_SLOTS,
  LOCS_SLOTS,
  recipeFileText,
  runCommandPlan,
  TABLE_SLOT,
} from '../../src/recipes/plans.js';
import { shortName } from '../../src/recipes/registry.js';
import { createSaveSink, planSaves, type SaveOptions } from '../../src/recipes/saveOutputs.js';

const IN = '/in';
const OUT = '/out';
/** Longest side of the before/after renders, pixels. */
const RENDER_PX = 1024;
const HDF5_EXTENSIONS = new Set(['.h5', '.hdf5', '.hdf', '.h5r']);

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

const ready = (async () => {
  const module = (await h5wasm.ready) as unknown as { FS: EmscriptenFs; get_plugin_search_paths(): string[] };
  setVfs(module.FS);
  setCwd(() => module.FS.cwd());
  module.FS.mkdirTree(OUT);
  return module;
})();

/**
 * Everything a run needs from the network, loaded now while the page is online: the HDF5
 * filter plugins, the FFT's WebAssembly (this worker's, for the inline executor) and the warm
 * pool of correlation workers. The page says "ready" (and offline-capable) once this is done;
 * a part that fails here is retried when needed (and then names what is missing).
 */
const warm = (async () => {
  const module = await ready;
  const pool = Math.min(navigator.hardwareConcurrency || 1, MAX_POOL_WORKERS);
  await Promise.allSettled([installBrowserPlugins(module), loadPffft(), pool > 1 ? warmPool(pool) : Promise.resolve()]);
})();

const progress: ProgressReporter = {
  start: (stage, total) => post({ type: 'stage', stage, total }),
  update: (done) => post({ type: 'progress', done }),
  stop: () => post({ type: 'stageDone' }),
  warn: (message) => post({ type: 'log', line: `warning: ${message}` }),
};

interface Opened {
  summary: Summary;
  table?: LocTable;
  stack?: ImageStack;
  readWith: string;
}
let opened: Opened | undefined;

function unmountInputs(fs: EmscriptenFs): void {
  if (!fs.analyzePath(IN).exists) return;
  fs.chdir('/');
  try {
    fs.unmount(IN);
  } catch {
    /* not mounted */
  }
  fs.rmdir(IN);
}

/** Which picked file is the data, which are sidecars or a drift to apply. */
function classify(names: string[]): { data: string; driftFile?: string; recipe?: string; ignored: string[] } {
  const drifts = names.filter((n) => extensionOf(n) === '.npz');
  const yamls = names.filter((n) => ['.yaml', '.yml'].includes(extensionOf(n)));
  const rest = names.filter((n) => !drifts.includes(n) && !yamls.includes(n));
  if (rest.length === 0) {
    throw new UsageError(
      `no table or image stack among the files (${names.join(', ')}); pick a table (.csv, .tsv, .hdf5 + .yaml, .hdf, .h5r) or a stack (.tif, .h5)`,
    );
  }
  if (rest.length > 1) throw new UsageError(`pick one table or stack at a time (with its sidecar); got ${rest.join(', ')}`);
  const data = rest[0];
  if (!isImagePath(data)) findTableFormat(data, 'read'); // the CLI's message for an unknown extension
  if (drifts.length > 1) throw new UsageError(`pick at most one drift .npz to apply; got ${drifts.join(', ')}`);
  const stem = data.slice(0, data.length - extensionOf(data).length);
  const recipes = yamls.filter((y) => y.slice(0, y.length - extensionOf(y).length) !== stem);
  if (recipes.length > 1) throw new UsageError(`pick at most one recipe .yaml to run; got ${recipes.join(', ')} (a Picasso sidecar is named as its .hdf5)`);
  if (recipes.length && drifts.length)
    throw new UsageError(`a recipe (${recipes[0]}) and a drift file (${drifts[0]}): pick one; a recipe loads drift files itself (Drift_Load_Interpolate)`);
  return { data, driftFile: drifts[0], recipe: recipes[0], ignored: [] };
}

function range(v: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const a = v[i];
    if (a < lo) lo = a;
    if (a > hi) hi = a;
  }
  return [lo, hi];
}

const fmt = (v: number, digits = 1) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));

function describeTable(name: string, table: LocTable): string[] {
  const lines = [`${name}: ${table.length} localizations`, `columns: ${[...table.columns.keys()].join(', ')}`];
  const [t0, t1] = range(table.columns.get('t')!);
  lines.push(`frames ${fmt(t0)} … ${fmt(t1)}`);
  const extent = (['x', 'y', 'z'] as const)
    .filter((a) => table.columns.has(a))
    .map((a) => {
      const [lo, hi] = range(table.columns.get(a)!);
      return `${a} ${fmt(lo)} … ${fmt(hi)} (${fmt(hi - lo)})`;
    });
  lines.push(`extent (nm): ${extent.join(', ')}`);
  const px = pixelSizeOf(table);
  if (px) lines.push(`camera pixel: ${fmt(px, 2)} nm`);
  return lines;
}

function describeStack(name: string, stack: ImageStack): string[] {
  return [
    `${name}: ${stack.frames} time points of ${stack.width}×${stack.height}${stack.depth > 1 ? `×${stack.depth}` : ''} ${stack.dtype}`,
    `voxel ${stack.voxelSizeNm.join(' × ')} nm`,
    `field ${fmt((stack.width * stack.voxelSizeNm[0]) / 1000, 2)} × ${fmt((stack.height * stack.voxelSizeNm[1]) / 1000, 2)} µm`,
  ];
}

/** The camera pixel for Picasso outputs: the option, Picasso's Pixelsize, else PYME's voxel size (µm). */
function pixelSizeOf(table: LocTable, option?: number): number | undefined {
  if (option) return option;
  const md = table.metadata;
  if (typeof md.Pixelsize === 'number') return md.Pixelsize;
  if (typeof md['voxelsize.x'] === 'number') return md['voxelsize.x'] * 1000;
  return undefined;
}

async function open(files: File[], values: FormValues): Promise<Opened> {
  const module = await ready;
  const fs = module.FS;
  opened = undefined;
  unmountInputs(fs);
  fs.mkdir(IN);
  fs.mount(fs.filesystems.WORKERFS, { files }, IN);
  fs.chdir(IN);
  const { data, driftFile, recipe, ignored } = classify(files.map((f) => f.name));
  if (HDF5_EXTENSIONS.has(extensionOf(data))) {
    // Fetched when the worker starts (so they are there offline); files without these filters open without them.
    await installBrowserPlugins(module).catch((err) =>
      progress.warn?.(`${(err as Error).message}; HDF5 files compressed with blosc, lz4, zstd or bitshuffle cannot be read`),
    );
  }
  const readWith = JSON.stringify([values['pixel-size'] ?? '', values.table ?? '', values['voxel-size'] ?? '']);
  if (driftFile) decodeDriftNpz(fs.readFile(driftFile) as Uint8Array, driftFile); // a bad drift file fails now
  // A bad recipe fails before the data is read, as with `ccdrift run`.
  const recipeLines = recipe
    ? [
        `recipe ${recipe}: ${parseRecipeFile(recipe, isImagePath(data))
          .steps.map((st) => st.decl.name)
          .join(' → ')}`,
      ]
    : [];
  if (isImagePath(data)) {
    const voxel = values['voxel-size']?.trim() ? parseTriple('voxel-size', values['voxel-size']) : undefined;
    const stack = await readImageStack(data, { voxelSizeNm: voxel });
    return { summary: { kind: 'stack', name: data, lines: [...describeStack(data, stack), ...recipeLines], ignored, driftFile, recipe }, stack, readWith };
  }
  const table = await readTable(data, { pixelSizeNm: optionalNumber(values, 'pixel-size'), table: values.table?.trim() || undefined, progress });
  return { summary: { kind: 'table', name: data, lines: [...describeTable(data, table), ...recipeLines], ignored, driftFile, recipe }, table, readWith };
}

/** The correlations' executor from --workers (default: every core the browser reports), as the CLI's. */
let workers = navigator.hardwareConcurrency || 1;

function setWorkers(values: FormValues): void {
  const n = optionalNumber(values, 'workers');
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--workers expects a whole number ≥ 1, got '${values.workers}'`);
  workers = n ?? (navigator.hardwareConcurrency || 1);
}

function makeContext(extra: Partial<RunContext> = {}): RunContext {
  return { executor: createPoolExecutor(workers), progress, cwd: IN, ...extra };
}

/** A file written to the in-memory output folder, taken out as bytes. */
async function takeOutput(name: string, mime: string): Promise<OutputFile> {
  const fs = (await ready).FS;
  const path = `${OUT}/${name}`;
  // The in-memory file's own bytes (MEMFS keeps them in one array), not a copy: an output is as
  // large as the input (5 M localizations: ~0.3–0.8 GB), and a copy would double the peak.
  const node = fs.lookupPath(path).node;
  const bytes =
    node.contents instanceof Uint8Array && typeof node.usedBytes === 'number' ? node.contents.subarray(0, node.usedBytes) : (fs.readFile(path) as Uint8Array);
  fs.unlink(path);
  return { name, bytes, mime };
}

/**
 * The corrected file's name, as the CLI names its default output: `<name>_undrift.<ext>`, the
 * extension --format's or the input's, a .h5r giving .hdf (src/cli/batch.ts UNDRIFT_SUFFIX,
 * src/cli/commands/locs.ts defaultTableExtension; not imported: they come with node:os).
 */
function outputName(input: string, format?: string): string {
  const ext = format ? `.${format}` : extensionOf(input) === '.h5r' ? '.hdf' : extensionOf(input);
  return `${input.slice(0, input.length - extensionOf(input).length)}_undrift${ext}`;
}

const MIME: Record<string, string> = {
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.yaml': 'application/yaml',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};
const mimeOf = (name: string) => MIME[extensionOf(name)] ?? 'application/octet-stream';

/** 2D histogram of x, y over a fixed grid (the same for before and after). */
function render(x: NumericArray, y: NumericArray, grid: { x0: number; y0: number; px: number; w: number; h: number }): Picture {
  const data = new Float32Array(grid.w * grid.h);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor((x[i] - grid.x0) / grid.px);
    const r = Math.floor((y[i] - grid.y0) / grid.px);
    if (c >= 0 && c < grid.w && r >= 0 && r < grid.h) data[r * grid.w + c]++;
  }
  return { width: grid.w, height: grid.h, data, pixel: `${fmt(grid.px)} nm` };
}

/** Side of the detail render (the densest square of the field), pixels. */
const DETAIL_PX = 512;

/**
 * The detail render's grid: the densest DETAIL_PX-pixel square of the corrected localizations
 * (as the CLI's --report picks it), at half the median localization precision (2–20 nm; 10 nm
 * when the table has none), where a correction shows.
 */
function detailGrid(table: LocTable, corrected: LocTable) {
  const err = table.columns.get('error_x') ?? table.columns.get('uncertainty') ?? table.columns.get('lpx');
  let px = 10;
  if (err) {
    const sample = Float64Array.from({ length: Math.min(err.length, 10_000) }, (_, i) => err[Math.floor((i * err.length) / Math.min(err.length, 10_000))])
      .filter(Number.isFinite)
      .sort();
    // Picasso's lpx is in camera pixels.
    const scale = table.columns.has('error_x') || table.columns.has('uncertainty') ? 1 : (pixelSizeOf(table) ?? 0);
    const median = sample.length ? sample[sample.length >> 1] * scale : 0;
    if (median > 0) px = Math.min(20, Math.max(2, median / 2));
  }
  const x = corrected.columns.get('x')!;
  const y = corrected.columns.get('y')!;
  const side = DETAIL_PX * px;
  const [x0, x1] = range(x);
  const [y0, y1] = range(y);
  const nx = Math.max(1, Math.ceil((x1 - x0) / side));
  const ny = Math.max(1, Math.ceil((y1 - y0) / side));
  const counts = new Float64Array(nx * ny);
  for (let i = 0; i < x.length; i++) counts[Math.min(ny - 1, Math.floor((y[i] - y0) / side)) * nx + Math.min(nx - 1, Math.floor((x[i] - x0) / side))]++;
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > counts[best]) best = k;
  const gx = x0 + (best % nx) * side;
  const gy = y0 + Math.floor(best / nx) * side;
  return { x0: gx, y0: gy, px, w: DETAIL_PX, h: DETAIL_PX, where: `x ${fmt(gx, 0)} … ${fmt(gx + side, 0)}, y ${fmt(gy, 0)} … ${fmt(gy + side, 0)} nm` };
}

/** Before/after renders of the densest square, for a table and its corrected copy. */
function detailRenders(table: LocTable, corrected: LocTable): Result['detail'] {
  const g = detailGrid(table, corrected);
  return {
    before: render(table.columns.get('x')!, table.columns.get('y')!, g),
    after: render(corrected.columns.get('x')!, corrected.columns.get('y')!, g),
    where: g.where,
  };
}

function renderGrid(table: LocTable) {
  const [x0, x1] = range(table.columns.get('x')!);
  const [y0, y1] = range(table.columns.get('y')!);
  const px = Math.max(1, Math.max(x1 - x0, y1 - y0) / RENDER_PX);
  return { x0, y0, px, w: Math.max(1, Math.ceil((x1 - x0) / px) + 1), h: Math.max(1, Math.ceil((y1 - y0) / px) + 1) };
}

/** Mean over time (and z) of a stack, read as it is written. */
function projector(stack: ImageStack) {
  const sum = new Float32Array(stack.width * stack.height);
  const plane = stack.width * stack.height;
  let n = 0;
  const add = (frame: NumericArray) => {
    for (let z = 0; z < stack.depth; z++) for (let i = 0; i < plane; i++) sum[i] += frame[z * plane + i];
    n++;
  };
  const picture = (): Picture => ({
    width: stack.width,
    height: stack.height,
    data: sum.map((v) => v / Math.max(1, n)),
    pixel: `${fmt(stack.voxelSizeNm[0])} nm`,
  });
  return { add, picture };
}

/** The drift per frame over [first, last], as CSV and (when the pixel is known) Picasso .txt. */
async function perFrameFiles(interp: DriftInterpolator, first: number, last: number, is3d: boolean, pixelSizeNm: number | undefined, stem: string) {
  const trace = sampleDriftPerFrame(interp, Math.floor(first), Math.ceil(last));
  const csvName = `${stem}_drift_per_frame.csv`;
  await writePerFrameOutputs(`${OUT}/${csvName}`, trace, pixelSizeNm, is3d);
  const perFrameCsv = await takeOutput(csvName, 'text/csv');
  let picassoTxt: OutputFile | undefined;
  if (pixelSizeNm && first >= 0) {
    // Picasso indexes its drift file by frame number: one row per frame from 0.
    const txtName = `${stem}_drift.txt`;
    await writePerFrameOutputs(`${OUT}/${txtName}`, first === 0 ? trace : sampleDriftPerFrame(interp, 0, Math.ceil(last)), pixelSizeNm, is3d);
    picassoTxt = await takeOutput(txtName, 'text/plain');
  }
  return { trace, perFrameCsv, picassoTxt };
}

/** Drift_Load_Interpolate's parameters for a picked .npz, as `ccdrift apply` loads it (same smoothing rule); its samples, for the plot. */
async function driftLoadParams(driftFile: string, values: FormValues): Promise<{ params: Record<string, unknown>; trace: DriftTrace; report: string }> {
  const fs = (await ready).FS;
  const trace = decodeDriftNpz(fs.readFile(driftFile) as Uint8Array, driftFile);
  const overrides: Record<string, unknown> = { load_paths: [driftFile] };
  if (!values.smoothing?.trim() || values.smoothing.trim() === String(splineParams.smoothing_factor.cliDefault)) {
    overrides.smoothing_factor = trace.sd ? 'auto' : splineParams.smoothing_factor.default;
  }
  const params = paramsFromForm(driftLoadInterpolate, values, overrides);
  return { params, trace, report: `applied ${driftFile} (${trace.t.length} samples, smoothing ${String(params.smoothing_factor)})` };
}

/** The plan a run is, as a recipe file `ccdrift run` repeats (the CLI's --save-recipe). */
function recipeDownload(plan: RecipePlan, stem: string, command: string, dataSlot: string, results: string): OutputFile {
  const name = `${stem}_recipe.yaml`;
  const text = recipeFileText(plan, { ranBy: `the ccdrift app (as \`${command}\`)`, path: name, dataSlot, results });
  return { name, bytes: new TextEncoder().encode(text), mime: 'application/yaml' };
}

async function runTable(o: Opened, values: FormValues): Promise<Result> {
  const table = o.table!;
  const input = o.summary.name;
  const stem = input.slice(0, input.length - extensionOf(input).length);
  const reports: string[] = [];
  // The modules run as `ccdrift apply` (a picked drift file) or `ccdrift locs` build them (src/recipes/plans.ts).
  let plan: RecipePlan;
  let slots: { interpolator: string; corrected: string };
  let loaded: DriftTrace | undefined;
  let label: string;
  let recorded: () => Record<string, unknown>;
  let command: string;
  let chosen: string | undefined;
  if (o.summary.driftFile) {
    const load = await driftLoadParams(o.summary.driftFile, values);
    reports.push(load.report);
    loaded = load.trace;
    ({ plan } = buildApplyPlan({ image: false, load: load.params }));
    slots = APPLY_SLOTS;
    label = `loaded (${o.summary.driftFile})`;
    recorded = () => ({});
    command = 'ccdrift apply';
  } else {
    const refine = values.refine ?? 'on';
    if (!['on', 'off'].includes(refine)) throw new UsageError(`--refine must be on or off, got '${refine}'`);
    const rccParams = paramsFromForm(locsRcc, values, { refine: refine === 'on', breaks: values.breaks?.trim() || 'auto' });
    const splineP = paramsFromForm(driftInterpolate, values);
    ({ plan } = buildLocsPlan(rccParams.method, undefined, { rcc: rccParams, spline: splineP }));
    slots = LOCS_SLOTS;
    label = rccParams.refine ? 'measured (RCC + fine stage)' : 'measured (RCC)';
    recorded = () => ({ ...rccParams, ...splineP, chosen });
    command = 'ccdrift locs';
  }
  const run = await runCommandPlan(plan, { [TABLE_SLOT]: table }, makeContext(), {
    wantedSlots: new Set([TABLE_SLOT, LOCS_SLOTS.drift, ...Object.values(slots)]),
    onStepDone: (step, report) => {
      if (step.decl.name !== locsRcc.name) return;
      reports.push(`${shortName(step.decl.name)}: ${report}`);
      chosen = report;
    },
  });
  const drift = loaded ?? slotValue(run, LOCS_SLOTS.drift, 'drift');
  const interp = slotValue(run, slots.interpolator, 'interpolator');
  const corrected = slotValue(run, slots.corrected, 'table');
  const provenance = provenanceOf(o.summary.driftFile ? 'apply' : 'locs', recorded(), input);
  Object.assign(corrected.metadata, provenance.metadata);
  const pixelOption = optionalNumber(values, 'pixel-size');
  const format = values.format?.trim() || undefined;
  if (format) findTableFormat(`x.${format}`, 'write');
  const target = `${OUT}/${outputName(input, format)}`;
  const written = await writeTable(target, corrected, { inputs: [`${IN}/${input}`], pixelSizeNm: pixelOption, provenance: provenance.record, progress });
  const files = await Promise.all(written.map((p) => takeOutput(p.slice(OUT.length + 1), mimeOf(p))));
  const grid = renderGrid(table);
  const before = render(table.columns.get('x')!, table.columns.get('y')!, grid);
  const after = render(corrected.columns.get('x')!, corrected.columns.get('y')!, grid);
  const detail = detailRenders(table, corrected);
  const [t0, t1] = range(table.columns.get('t')!);
  const is3d = table.columns.has('z');
  const per = await perFrameFiles(interp, t0, t1, is3d, pixelSizeOf(table, pixelOption), stem);
  return {
    kind: 'table',
    reports,
    samples: drift,
    perFrame: per.trace,
    is3d: is3d && !(values['flatten-z'] === 'true'),
    plot: interpolatorPlot(interp, [label], `Drift of ${input}`, { frames: [t0, t1] }),
    title: `Drift of ${input}`,
    label,
    before,
    after,
    detail,
    corrected: files,
    driftNpz: { name: `${stem}_drift.npz`, bytes: encodeDriftNpz(drift), mime: 'application/octet-stream' },
    perFrameCsv: per.perFrameCsv,
    picassoTxt: per.picassoTxt,
    recipe: recipeDownload(plan, stem, command, TABLE_SLOT, `the corrected table is '${slots.corrected}'`),
    seconds: 0,
  };
}

async function runStack(o: Opened, values: FormValues): Promise<Result> {
  const stack = o.stack!;
  const input = o.summary.name;
  const stem = input.slice(0, input.length - extensionOf(input).length);
  const reports: string[] = [];
  const padding = optionalNumber(values, 'padding-multiplier');
  const shiftParams = paramsFromForm(imagePostShift, values, {
    ...(padding !== undefined && { padding_multipler: padding }),
    float_output: values.float === 'true',
  });
  // Recorded as by `ccdrift images`, which gives --float to Image_Post_Shift's float_output but records it apart.
  const { float_output: _float, ...shiftRecorded } = shiftParams;
  // The modules run as `ccdrift apply` (a picked drift file) or `ccdrift images` build them (src/recipes/plans.ts).
  let plan: RecipePlan;
  let slots: { interpolator: string; corrected: string };
  let loaded: DriftTrace | undefined;
  let label: string;
  let params: Record<string, unknown>;
  let command: string;
  if (o.summary.driftFile) {
    const load = await driftLoadParams(o.summary.driftFile, values);
    reports.push(load.report);
    loaded = load.trace;
    ({ plan } = buildApplyPlan({ image: true, load: load.params, shift: shiftParams }));
    slots = APPLY_SLOTS;
    label = `loaded (${o.summary.driftFile})`;
    params = shiftRecorded;
    command = 'ccdrift apply';
  } else {
    const filterParams = paramsFromForm(imagePreClipFilter, values);
    const crop = { x_start: 'x-start', x_end: 'x-end', y_start: 'y-start', y_end: 'y-end' } as const;
    const downsampleOverrides: Record<string, unknown> = {};
    if (values.bin?.trim()) downsampleOverrides.binsize = parseTriple('bin', values.bin);
    for (const [param, flag] of Object.entries(crop)) {
      const v = optionalNumber(values, flag);
      if (v !== undefined) downsampleOverrides[param] = v;
    }
    const downsampleParams = paramsFromForm(imagePreDownsample, values, downsampleOverrides);
    const rccParams = paramsFromForm(imageRcc, values);
    const splineP = paramsFromForm(driftInterpolate, values);
    plan = buildImagesPlan({
      filter: (values.prefilter ?? 'true') === 'true' ? filterParams : undefined,
      downsample: downsampleChanges(downsampleParams) ? downsampleParams : undefined,
      rcc: rccParams,
      spline: splineP,
      shift: shiftParams,
    });
    slots = IMAGES_SLOTS;
    label = 'measured (Image RCC)';
    params = { ...filterParams, ...downsampleParams, ...rccParams, ...splineP, ...shiftRecorded };
    command = 'ccdrift images';
  }
  const run = await runCommandPlan(plan, { [IMAGE_SLOT]: stack }, makeContext(), {
    // The picked stack is read again for the "before" projection (and kept for another run): not released.
    wantedSlots: new Set([IMAGE_SLOT, IMAGES_SLOTS.drift, ...Object.values(slots)]),
    onStepDone: (step, report) => {
      if (step.decl.name === imagePreClipFilter.name || step.decl.name === imageRcc.name) reports.push(`${shortName(step.decl.name)}: ${report}`);
    },
  });
  const drift = loaded ?? slotValue(run, IMAGES_SLOTS.drift, 'drift');
  const interp = slotValue(run, slots.interpolator, 'interpolator');
  const corrected = slotValue(run, slots.corrected, 'image');
  Object.assign(corrected.metadata, provenanceOf(o.summary.driftFile ? 'apply' : 'images', params, input).metadata);
  const before = projector(stack);
  const after = projector(corrected); // padded frames (--padding-multiplier) are larger
  let files: OutputFile[];
  try {
    // The corrected frames go to the file and into the "after" projection as they are written.
    let done = 0;
    const watched = Object.assign(Object.create(Object.getPrototypeOf(corrected)), corrected, {
      async readFrame(index: number) {
        if (done === 0) progress.start?.('writing', stack.frames);
        const frame = await corrected.readFrame(index);
        after.add(frame);
        before.add(await stack.readFrame(index));
        progress.update?.(++done);
        if (done === stack.frames) progress.stop?.();
        return frame;
      },
    }) as ImageStack;
    const target = `${OUT}/${outputName(input)}`;
    const written = await writeImageStack(target, watched, { inputs: [`${IN}/${input}`] });
    files = await Promise.all(written.map((p) => takeOutput(p.slice(OUT.length + 1), mimeOf(p))));
  } finally {
    disposeSlotValue(corrected);
  }
  const is3d = stack.depth > 1;
  const per = await perFrameFiles(interp, 0, stack.frames - 1, is3d, undefined, stem);
  return {
    kind: 'stack',
    reports,
    samples: drift,
    perFrame: per.trace,
    is3d,
    plot: interpolatorPlot(interp, [label], `Drift of ${input}`, { frames: [0, stack.frames - 1] }),
    title: `Drift of ${input}`,
    label,
    before: before.picture(),
    after: after.picture(),
    corrected: files,
    driftNpz: { name: `${stem}_drift.npz`, bytes: encodeDriftNpz(drift), mime: 'application/octet-stream' },
    perFrameCsv: per.perFrameCsv,
    recipe: recipeDownload(plan, stem, command, IMAGE_SLOT, `the corrected stack is '${slots.corrected}'`),
    seconds: 0,
  };
}

/** Where a recipe runs: the picked files appear here (links), and what it writes lands here. */
const WORK = '/work';

function parseRecipeFile(recipe: string, isImage: boolean): RecipePlan {
  const text = vfs().readFile(`${IN}/${recipe}`, { encoding: 'utf8' }) as string;
  return parseRecipe(text, [isImage ? IMAGE_SLOT : TABLE_SLOT], { source: recipe });
}

/** The output of the recipe's last Locs_Post_Shift / Image_Post_Shift step: the corrected data, for the after render. */
function shifted<K extends 'table' | 'image'>(plan: RecipePlan, slots: Map<string, unknown>, kind: K): SlotValues[K] | undefined {
  const step = [...plan.steps].reverse().find((st) => /Post_Shift$/.test(st.decl.name));
  const value = step
    ? Object.values(step.outputs)
        .map((slot) => slots.get(slot))
        .find((v) => v !== undefined)
    : undefined;
  return isSlotValue(kind, value) ? value : undefined;
}

/** The first of `values` that is a slot value of `kind`. */
function firstOfKind<K extends SlotKind>(values: readonly unknown[], kind: K): SlotValues[K] | undefined {
  for (const v of values) if (isSlotValue(kind, v)) return v;
  return undefined;
}

/** Run a picked recipe as `ccdrift run RECIPE DATA -o results` does; show what it produced. */
async function runRecipeFile(o: Opened, values: FormValues): Promise<Result> {
  const fs = vfs();
  const input = o.summary.name;
  const isImage = o.summary.kind === 'stack';
  const plan = parseRecipeFile(o.summary.recipe!, isImage);
  removeSync(WORK, { force: true });
  fs.mkdirTree(`${WORK}/results`);
  for (const name of fs.readdir(IN)) if (name !== '.' && name !== '..') fs.symlink(`${IN}/${name}`, `${WORK}/${name}`);
  // Plots are saved as SVG here (the CLI's PNG needs its native rasterizer); the page offers PNG.
  const saves: Record<string, string> = {};
  for (const step of plan.steps)
    for (const [param, slot] of Object.entries(step.outputs))
      if (param.includes('plot') && !plan.consumers.get(slot)?.length) saves[slot] = `results/${slot}.svg`;
  const pixelSizeNm = optionalNumber(values, 'pixel-size');
  const saveOptions: SaveOptions = { outDir: 'results', saves, skip: [], inputPath: input, cwd: WORK, recipeText: formatRecipe(plan), pixelSizeNm };
  const savePlan = planSaves(plan, saveOptions);
  const sink = createSaveSink(savePlan, saveOptions);
  const reports: string[] = [];
  const data = isImage ? o.stack! : o.table!;
  const { slots } = await runRecipe(plan, { [isImage ? IMAGE_SLOT : TABLE_SLOT]: data }, makeContext({ cwd: WORK, recipeText: saveOptions.recipeText }), {
    wantedSlots: savePlan.wanted,
    sink,
    release: false,
    onStepStart: (step, i, n) => post({ type: 'log', line: `[${i + 1}/${n}] ${step.decl.name} (item ${step.item})` }),
    onStepDone: (step, report) => {
      if (report) reports.push(`${step.decl.name}: ${report}`);
    },
  });
  const files: OutputFile[] = [];
  for (const r of sink.records) {
    if (!r.files) {
      reports.push(`not saved: ${r.slot}: ${r.reason}`);
      continue;
    }
    for (const path of r.files) {
      const name = path.startsWith(`${WORK}/`) ? path.slice(WORK.length + 1) : path;
      files.push({ name: name.replace(/^results\//, '').replace(/\//g, '_'), bytes: fs.readFile(path) as Uint8Array, mime: mimeOf(path) });
    }
  }
  // Files modules wrote themselves (Drift_Save's save_path), beside the picked files.
  for (const name of fs.readdir(WORK)) {
    if (name === '.' || name === '..' || name === 'results' || fs.readdir(IN).includes(name)) continue;
    files.push({ name, bytes: fs.readFile(`${WORK}/${name}`) as Uint8Array, mime: mimeOf(name) });
  }
  const values_ = [...slots.values()];
  const interp = firstOfKind(values_, 'interpolator');
  const drift = firstOfKind(values_, 'drift') ?? interp?.sources[0];
  if (!interp || !drift) {
    for (const v of values_) disposeSlotValue(v);
    throw new UsageError(
      `the recipe ${o.summary.recipe} produced no drift interpolator (Drift_Interpolate or Drift_Load_Interpolate); nothing to show or correct with`,
    );
  }
  const stem = input.slice(0, input.length - extensionOf(input).length);
  let before: Picture;
  let after: Picture;
  let detail: Result['detail'];
  let first = 0;
  let last = 0;
  let is3d: boolean;
  if (isImage) {
    const stack = o.stack!;
    const corrected = shifted(plan, slots, 'image');
    const b = projector(stack);
    const a = projector(corrected ?? stack);
    for (let i = 0; i < stack.frames; i++) {
      b.add(await stack.readFrame(i));
      if (corrected) a.add(await corrected.readFrame(i));
    }
    before = b.picture();
    after = corrected ? a.picture() : b.picture();
    last = stack.frames - 1;
    is3d = stack.depth > 1;
  } else {
    const table = o.table!;
    const corrected = shifted(plan, slots, 'table');
    const grid = renderGrid(table);
    before = render(table.columns.get('x')!, table.columns.get('y')!, grid);
    after = render((corrected ?? table).columns.get('x')!, (corrected ?? table).columns.get('y')!, grid);
    detail = detailRenders(table, corrected ?? table);
    [first, last] = range(table.columns.get('t')!);
    is3d = table.columns.has('z');
  }
  for (const v of values_) disposeSlotValue(v);
  const per = await perFrameFiles(interp, first, last, is3d, isImage ? undefined : pixelSizeOf(o.table!, pixelSizeNm), stem);
  const main = files;
  return {
    kind: o.summary.kind,
    reports,
    samples: drift,
    perFrame: per.trace,
    is3d,
    plot: interpolatorPlot(
      interp,
      interp.sources.map((_, i) => (interp.sources.length > 1 ? `samples ${i + 1}` : 'samples')),
      `Drift of ${input} (${o.summary.recipe})`,
      { frames: [first, last] },
    ),
    title: `Drift of ${input} (${o.summary.recipe})`,
    label: `samples (${o.summary.recipe})`,
    before,
    after,
    detail,
    corrected: main.filter((f) => /\.(csv|tsv|hdf5|hdf|h5r|h5|tif|tiff|yaml)$/i.test(f.name) && !/\.(npz|svg)$/i.test(f.name)),
    extra: main.filter((f) => !/\.(csv|tsv|hdf5|hdf|h5r|h5|tif|tiff|yaml)$/i.test(f.name)),
    driftNpz: { name: `${stem}_drift.npz`, bytes: encodeDriftNpz(drift), mime: 'application/octet-stream' },
    perFrameCsv: per.perFrameCsv,
    picassoTxt: per.picassoTxt,
    seconds: 0,
  };
}

function transferables(r: Result): Transferable[] {
  const out: Transferable[] = [
    r.before.data.buffer,
    r.after.data.buffer,
    ...(r.detail ? [r.detail.before.data.buffer, r.detail.after.data.buffer] : []),
    r.driftNpz.bytes.buffer,
    r.perFrameCsv.bytes.buffer,
  ];
  for (const f of [...r.corrected, ...(r.extra ?? [])]) out.push(f.bytes.buffer);
  if (r.picassoTxt) out.push(r.picassoTxt.bytes.buffer);
  if (r.recipe) out.push(r.recipe.bytes.buffer);
  return [...new Set(out)] as Transferable[];
}

let lastFiles: File[] = [];

self.onmessage = async (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    if (msg.type === 'open') {
      lastFiles = msg.files;
      const started = performance.now();
      opened = await open(msg.files, msg.values);
      opened.summary.lines.push(`read in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      post({ type: 'opened', summary: opened.summary });
      return;
    }
    if (msg.type === 'run') {
      const readWith = JSON.stringify([msg.values['pixel-size'] ?? '', msg.values.table ?? '', msg.values['voxel-size'] ?? '']);
      if (!opened || opened.readWith !== readWith) {
        if (lastFiles.length === 0) throw new UsageError('pick a table or an image stack first');
        opened = await open(lastFiles, msg.values);
        post({ type: 'opened', summary: opened.summary });
      }
      setWorkers(msg.values);
      const started = performance.now();
      const result = opened.summary.recipe
        ? await runRecipeFile(opened, msg.values)
        : opened.summary.kind === 'table'
          ? await runTable(opened, msg.values)
          : await runStack(opened, msg.values);
      result.seconds = (performance.now() - started) / 1000;
      post({ type: 'result', result }, transferables(result));
    }
  } catch (err) {
    const e = err as Error;
    console.debug(e);
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};

Promise.all([ready, warm]).then(
  () => post({ type: 'ready' }),
  (err) => post({ type: 'error', message: `the HDF5 library did not load: ${(err as Error).message}` }),
);
