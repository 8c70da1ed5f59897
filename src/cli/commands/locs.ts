import type { Command } from 'commander';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { InputError, UsageError } from '../../core/errors.js';
import { basename } from 'node:path';
import type { CrossCorrelationStack } from '../../recipes/modules/locsRcc.js';
import { sampleDriftPerFrame } from '../../core/drift/driftInterpolator.js';
import type { DriftInterpolator, DriftTrace, LocTable } from '../../core/types.js';
import { extensionOf, findTableFormat, readTable, writeTable } from '../../io/index.js';
import { CSV_META } from '../../io/csv.js';
import { picassoYamlPixelSize } from '../../io/hdf5/picasso.js';
import { driftNpzPath, writeDriftNpz } from '../../io/npz.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, checkFolderCanBeMade, optionalFile, planOutputs, type PlannedFile } from '../outputPlan.js';
import { batchInputs, checkBatchPlans, driftSpan, DRIFT_SUFFIX, outputBeside, perInputPath, refuseExisting, removeStaleOutputs, runBatch, UNDRIFT_SUFFIX, type BatchPlan } from '../batch.js';
import { DETAILS_KEY, REPORT_KEY, reportOf } from '../../recipes/declare.js';
import type { LocsRccResult } from '../../core/drift/estimateDriftFromLocs.js';
import { collectWarnings, locsReportData, writeReport } from '../report.js';
import { driftInterpolate, interpolatorPlot } from '../../recipes/modules/driftInterpolate.js';
import { locsPostShift } from '../../recipes/modules/locsPostShift.js';
import { locsRcc } from '../../recipes/modules/locsRcc.js';
import { locsFiducial, runFiducial } from '../../recipes/modules/locsFiducial.js';
import type { MarkerMethodResult } from '../../core/drift/estimateDriftByMarkers.js';
import { locsAim } from '../../recipes/modules/locsAim.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { addModuleFlags, paramsFromFlags, parsePositiveFlag } from '../flags.js';
import { checkPixelSizeAgreement, provenanceOf, say, tablePixelSizeNm, writeDebugCorrelations, writePerFrameOutputs, sayWritten } from '../output.js';

interface LocsOptions extends CommonOptions {
  output?: string;
  outDir?: string;
  format?: string;
  force?: boolean;
  driftOut?: string;
  plot?: string;
  perFrame?: string;
  pixelSize?: number;
  table?: string;
  refine: string;
  breaks: string;
  method: string;
  then?: string;
  report?: string;
}

/** `--method`: Locs_RCC's methods, or the fiducial and AIM modules (issue 14). */
const LOCS_METHODS = ['RCC', 'MCC', 'DCC', 'fiducial', 'AIM'];

function resolveMethod(text: string, flag: string): string {
  const m = LOCS_METHODS.find((v) => v.toLowerCase() === text.trim().toLowerCase());
  if (!m) throw new UsageError(`${flag} must be one of ${LOCS_METHODS.join(', ')}, got '${text}'`);
  return m;
}

/** Can `locs` read this file (by extension)? Quoted globs keep only such files. */
function readsTable(path: string): boolean {
  try {
    findTableFormat(path, 'read');
    return true;
  } catch {
    return false;
  }
}

/** Extension of a default output: --format, else the input's (a .h5r is written as .hdf). */
export function defaultTableExtension(input: string, format: string | undefined): string {
  if (format) return `.${format.replace(/^\./, '').toLowerCase()}`;
  const ext = extensionOf(input);
  return ext === '.h5r' ? '.hdf' : ext;
}

/** Create --out-dir when missing (a batch's results folder). */
export function ensureOutDir(outDir: string | undefined): void {
  if (!outDir) return;
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out-dir ${outDir} is a file, not a folder`);
  checkFolderCanBeMade('--out-dir', outDir);
  mkdirSync(outDir, { recursive: true });
}

/** Extension-only values of --plot and --per-frame (one file per input). */
export const PLOT_EXTS = ['png', 'svg'];
export const PER_FRAME_EXTS = ['csv', 'txt', 'json', 'npz'];

interface LocsPaths {
  output: string;
  driftOut?: string;
  plot?: string;
  perFrame?: string;
  report?: string;
}

export function registerLocsCommand(program: Command): void {
  const cmd = program
    .command('locs')
    .summary('measure the drift of localization tables by RCC and correct them (undrift: Picasso\'s word)')
    .alias('undrift')
    .description(
      'measure the drift of localization tables by RCC, correct them, and write the corrected tables ' +
        '(undrift: the same, Picasso\'s word). Without -o: <name>_undrift.<ext> (+ .yaml for Picasso) and <name>_drift.npz beside each input, or in --out-dir',
    )
    .argument('<inputs...>', 'localization files (.csv, .tsv, .hdf, .h5r, .hdf5) or quoted globs (\'run2/*.hdf5\', \'raw/**/*.csv\')')
    .option('-o, --output <file>', 'corrected table, for one input (format from the extension); default <name>_undrift.<ext>')
    .option('--out-dir <dir>', 'folder for the default outputs (created if missing); default: beside each input')
    .option('--format <ext>', "format of the default outputs: csv, tsv, hdf or hdf5 (default: the input's; .h5r gives .hdf)")
    .option('--force', 'replace default outputs that exist already; accept a --pixel-size that disagrees with the file\'s own')
    .option('--drift-out <file.npz>', 'the measured drift samples (numpy .npz, the original plugin\'s format); default without -o: <name>_drift.npz')
    .option('--plot <file>', 'drift plot, .png or .svg (several inputs: png or svg gives <name>_drift.png each)')
    .option('--per-frame <file>', 'the interpolated drift at every frame: .csv (t,x,y,z nm), Picasso .txt, ThunderSTORM .json (several inputs: csv/txt/json gives <name>_drift.<ext> each)')
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files and drift .txt (default: the file\'s own)', (v) => parsePositiveFlag('pixel-size', v))
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option('--refine <on|off>', 'the fine stage after RCC (segments against a leave-one-out reference; resolves fast drift and jumps)', 'on')
    .option('--breaks <frames|auto|none>', "frames where the drift jumps, e.g. 12000,20000; 'auto' detects them", 'auto');
  cmd.option('--method <name>', `${LOCS_METHODS.join(' | ')}: RCC family (Locs_RCC), fiducial markers (Locs_Fiducial) or AIM (Locs_AIM)`, 'RCC');
  cmd.option('--then <method>', "a second method that refines the first: 'fiducial' (markers tracked after the first method's drift; picks in its coordinates)");
  addModuleFlags(cmd, locsRcc, Object.keys(locsRcc.params).filter((p) => p !== 'method'));
  addModuleFlags(cmd, locsFiducial);
  addModuleFlags(cmd, locsAim);
  cmd.option('--report <file.html>', 'a self-contained HTML report: input, parameters and why, drift with its uncertainty, pairs and windows (RCC), markers (fiducial) or segments (AIM), warnings, before/after, FRC');
  addModuleFlags(cmd, driftInterpolate);
  addCommonOptions(cmd);
  cmd.action(async (args: string[], opts: LocsOptions) => {
    if (!['on', 'off'].includes(opts.refine)) throw new UsageError(`--refine must be on or off, got '${opts.refine}'`);
    const method = resolveMethod(opts.method, '--method');
    const then = opts.then === undefined ? undefined : resolveMethod(opts.then, '--then');
    if (then !== undefined && then !== 'fiducial') throw new UsageError(`--then supports 'fiducial' (after RCC, MCC, DCC or AIM), got '${opts.then}'`);
    if (then && method === 'fiducial') throw new UsageError('--then fiducial refines another method; with --method fiducial leave --then out');
    const rccFamily = ['RCC', 'MCC', 'DCC'].includes(method);
    const rccParams = paramsFromFlags(locsRcc, opts as unknown as Record<string, unknown>, {
      refine: opts.refine === 'on',
      breaks: opts.breaks,
      method: rccFamily ? method : 'RCC',
    });
    const fiducialParams = paramsFromFlags(locsFiducial, opts as unknown as Record<string, unknown>);
    const aimParams = paramsFromFlags(locsAim, opts as unknown as Record<string, unknown>);
    const splineParams = paramsFromFlags(driftInterpolate, opts as unknown as Record<string, unknown>);
    fiducialParams.flatten_z = aimParams.flatten_z = rccParams.flatten_z;
    const { files, problems, batch } = batchInputs(args, readsTable, opts.output, (m) => say(opts, m));
    if (batch && rccParams.debug_cor_file) throw new UsageError('--debug-cor-file is for one input; run the file you want to inspect on its own');
    ensureOutDir(opts.outDir);
    if (opts.format) {
      try {
        findTableFormat(`x.${opts.format.replace(/^\./, '')}`, 'write');
      } catch {
        throw new UsageError(`--format ${opts.format}: not a table format ccdrift writes; choose csv, tsv, hdf or hdf5`);
      }
    }

    const plans: (BatchPlan & { paths: LocsPaths })[] = files.map((input) => {
      const output = opts.output ?? outputBeside(input, UNDRIFT_SUFFIX, defaultTableExtension(input, opts.format), opts.outDir);
      const driftOut = opts.driftOut
        ? driftNpzPath(perInputPath('--drift-out', opts.driftOut, input, batch, opts.outDir, ['npz'])!)
        : opts.output
          ? undefined
          : outputBeside(input, DRIFT_SUFFIX, '.npz', opts.outDir);
      const plot = perInputPath('--plot', opts.plot, input, batch, opts.outDir, PLOT_EXTS);
      const perFrame = perInputPath('--per-frame', opts.perFrame, input, batch, opts.outDir, PER_FRAME_EXTS);
      const report = perInputPath('--report', opts.report, input, batch, opts.outDir, ['html']);
      // Picasso's yaml (read without the data) or a PYME file's metadata gives a drift .txt its pixel size.
      const pixelHint = opts.pixelSize ?? (extensionOf(input) === '.hdf5' ? picassoYamlPixelSize(input) : undefined);
      const pixelLater = ['.hdf', '.h5r'].includes(extensionOf(input));
      const outputs: PlannedFile[] = [
        { path: output, what: opts.output ? '-o' : 'output', check: accepts.table(output) },
        ...optionalFile(driftOut, opts.driftOut ? '--drift-out' : 'drift file'),
        ...optionalFile(plot, '--plot', plot ? accepts.plot(plot) : undefined),
        ...optionalFile(report, '--report', report ? accepts.report(report) : undefined),
        ...optionalFile(perFrame, '--per-frame', perFrame ? accepts.perFrame(perFrame, pixelHint, pixelLater) : undefined),
        ...optionalFile(rccParams.debug_cor_file, '--debug-cor-file', accepts.tiff('--debug-cor-file', rccParams.debug_cor_file)),
      ];
      // Names ccdrift chose, and extension-only flags, never replace a file without --force.
      const defaults = outputs.filter((o) => o.what === 'output' || o.what === 'drift file' || (o.path !== opts.plot && o.path === plot) || (o.path !== opts.perFrame && o.path === perFrame) || (o.path !== opts.report && o.path === report));
      return { input, outputs, defaults, scratch: optionalFile(rccParams.cache_fft, '--cache-fft'), paths: { output, driftOut, plot, perFrame, report } };
    });

    // One run context for every file: the worker pool settings and progress are shared.
    const ctx = makeRunContext(
      { ...opts, cacheFft: rccParams.cache_fft },
      { wantedOutputs: new Set(['output_drift', 'output_drift_plot', 'output_drift_interpolator', 'output_name', 'output_localizations']) },
    );
    // RCC's threads start while the first file is read.
    if (rccFamily) ctx.executor.warm?.();
    const correctOne = async (input: string, paths: LocsPaths) => {
      // The report lists this file's warnings: collect them while it runs.
      const progress = ctx.progress;
      const collected = collectWarnings(progress);
      if (paths.report) ctx.progress = collected.progress;
      try {
      let table: LocTable = await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table, progress: ctx.progress, overridePixelSize: opts.force });
      checkPixelSizeAgreement(input, table.metadata, opts.pixelSize, opts.force);
      const pixelSizeNm = opts.pixelSize ?? tablePixelSizeNm(table.metadata);
      if (paths.perFrame && extensionOf(paths.perFrame) === '.txt' && !pixelSizeNm) {
        // Before any work: the table states no pixel size (no Picasso yaml, no PYME voxelsize).
        throw new UsageError(`--per-frame ${paths.perFrame}: Picasso drift files are in camera pixels and ${input} states no pixel size; give --pixel-size <nm>`);
      }
      say(opts, `${input}: ${table.length} localizations`);
      const fidParams = { ...fiducialParams };
      if (opts.pixelSize !== undefined && !fidParams.pixel_size) fidParams.pixel_size = opts.pixelSize;
      let rcc: Record<string, unknown> = {};
      let drift: DriftTrace;
      let label: string;
      const reports: string[] = [];
      let markerPlotSources: { label: string; trace: DriftTrace }[] = [];
      // The fiducial or AIM result, for the report.
      let marker: MarkerMethodResult | undefined;
      if (method === 'fiducial') {
        const fid = await runFiducial(ctx, table, fidParams);
        marker = fid[DETAILS_KEY] as MarkerMethodResult;
        say(opts, `Locs_Fiducial: ${reportOf(fid)}`);
        reports.push(String(fid[REPORT_KEY]));
        drift = fid.output_drift as DriftTrace;
        table = fid.output_localizations as LocTable;
        markerPlotSources = fid.output_marker_plot_sources as typeof markerPlotSources;
        label = 'measured (fiducials)';
      } else {
        const first = method === 'AIM' ? await locsAim.run(ctx, { input_localizations: table }, aimParams) : await locsRcc.run(ctx, { input_for_correction: table }, rccParams);
        rcc = first;
        if (method === 'AIM') marker = first[DETAILS_KEY] as MarkerMethodResult;
        say(opts, `${method === 'AIM' ? 'Locs_AIM' : 'Locs_RCC'}: ${reportOf(first)}`);
        reports.push(String(first[REPORT_KEY]));
        drift = first.output_drift as DriftTrace;
        label = method === 'AIM' ? 'measured (AIM)' : rccParams.refine ? 'measured (RCC + fine stage)' : 'measured (RCC)';
        if (then === 'fiducial') {
          const fid = await runFiducial(ctx, table, fidParams, drift);
          marker = fid[DETAILS_KEY] as MarkerMethodResult;
          say(opts, `Locs_Fiducial (after ${method}): ${reportOf(fid)}`);
          reports.push(String(fid[REPORT_KEY]));
          drift = fid.output_drift as DriftTrace;
          table = fid.output_localizations as LocTable;
          markerPlotSources = fid.output_marker_plot_sources as typeof markerPlotSources;
          label = `measured (${method}, then fiducials)`;
        }
      }
      const interp = (await driftInterpolate.run(ctx, { input_drift_raw: drift }, splineParams)).output_drift_interpolator as DriftInterpolator;
      const corrected = (await locsPostShift.run(ctx, { input_localizations: table, input_drift_interpolator: interp }, {})).output_name as LocTable;
      const methodParams = method === 'fiducial' ? fidParams : method === 'AIM' ? aimParams : rccParams;
      const provenance = provenanceOf(
        'locs',
        { method, ...(then ? { then, fiducial: fidParams } : {}), ...methodParams, ...splineParams, chosen: reports.join(' | ') },
        input,
      );
      Object.assign(corrected.metadata, provenance.metadata);
      const written = await writeTable(paths.output, corrected, { inputs: [input], pixelSizeNm: opts.pixelSize, provenance: provenance.record, progress: ctx.progress });
      sayWritten(opts, `wrote ${written.join(', ')}`);
      if (paths.driftOut) {
        const w = await writeDriftNpz(paths.driftOut, drift, { inputs: [input] });
        written.push(w);
        sayWritten(opts, `wrote ${w}`);
      }
      if (rccParams.debug_cor_file && rcc.output_cross_cor) {
        sayWritten(opts, `wrote ${await writeDebugCorrelations(rccParams.debug_cor_file, rcc.output_cross_cor as CrossCorrelationStack, [input])} (thresholded correlation, one image per pair)`);
      }
      const [lo, hi] = minMax(table.columns.get('t')!);
      const plotData = interpolatorPlot(interp, [label], `Drift of ${basename(input)}`, {
        frames: [Math.floor(lo), Math.ceil(hi)],
        subtitle: `${table.length} localizations; ${reports.join('; ').split('; grid')[0]}; smoothing ${String(splineParams.smoothing_factor)}`,
      });
      // Fiducials: each used marker's own trace beside the combined samples.
      plotData.sources.push(...markerPlotSources);
      if (paths.plot) {
        await writeDriftPlot(paths.plot, plotData);
        written.push(paths.plot);
        sayWritten(opts, `wrote ${paths.plot}`);
      }
      if (paths.perFrame) {
        // Picasso's .txt has one row per frame from frame 0 (it indexes the rows by frame).
        const first = extensionOf(paths.perFrame) === '.txt' ? 0 : Math.floor(lo);
        const frameBase = table.metadata[CSV_META.frameBase] === 1 ? 1 : 0;
        const perFrame = sampleDriftPerFrame(interp, first, Math.ceil(hi));
        await writePerFrameOutputs(paths.perFrame, perFrame, pixelSizeNm, table.columns.has('z'), { frameBase, inputs: [input], sd: interp.evaluateSd?.(perFrame.t) });
        written.push(paths.perFrame);
        sayWritten(opts, `wrote ${paths.perFrame}`);
      }
      if (paths.report) {
        const data = await locsReportData({
          inputPath: input,
          command: ['ccdrift', ...process.argv.slice(2)].join(' '),
          table,
          corrected,
          result: rccFamily ? (rcc[DETAILS_KEY] as LocsRccResult) : undefined,
          marker,
          interp,
          plot: plotData,
          params: { ...methodParams, ...splineParams },
          warnings: collected.warnings,
        });
        await writeReport(paths.report, data, [input]);
        written.push(paths.report);
        sayWritten(opts, `wrote ${paths.report}`);
      }
      const spanText = driftSpan(drift, table.columns.has('z') && !rccParams.flatten_z);
      say(opts, `drift range: ${spanText} nm`);
      return { rows: table.length, span: spanText, written };
      } finally {
        ctx.progress = progress;
      }
    };

    if (!batch) {
      if (problems.length) throw new InputError(problems[0].message);
      const plan = plans[0];
      await planOutputs([plan.input, ...(fiducialParams.picks ? [fiducialParams.picks] : [])], plan.outputs, plan.scratch ?? [], (m) => say(opts, m));
      refuseExisting(plan.defaults, opts.force);
      await correctOne(plan.input, plan.paths);
      return;
    }
    const planProblems = checkBatchPlans(plans, files, opts.force);
    await removeStaleOutputs(plans, (m) => say(opts, m));
    await runBatch(plans, planProblems, problems, (plan) => correctOne(plan.input, (plan as (typeof plans)[number]).paths), (line) => say(opts, line));
  });
}

function minMax(v: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i] < lo) lo = v[i];
    if (v[i] > hi) hi = v[i];
  }
  return [lo, hi];
}
