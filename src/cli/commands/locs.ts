import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { InputError, UsageError } from '../../core/errors.js';
import { basename } from 'node:path';
import { sampleDriftPerFrame } from '../../core/drift/driftInterpolator.js';
import type { LocTable } from '../../core/types.js';
import { extensionOf, findTableFormat, readTable, writeTable } from '../../io/index.js';
import { CSV_META } from '../../io/csv.js';
import { picassoYamlPixelSize } from '../../io/hdf5/picasso.js';
import { driftNpzPath, writeDriftNpz } from '../../io/npz.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, checkFolderCanBeMade, checkOutputPlan, optionalFile, planOutputs } from '../outputPlan.js';
import { withOutputBatch } from '../../io/atomic.js';
import {
  batchInputs,
  checkBatchPlans,
  driftSpan,
  DRIFT_SUFFIX,
  inOutDir,
  makeOutputFolders,
  outputBeside,
  perInputPath,
  refuseExisting,
  removeStaleOutputs,
  runBatch,
  UNDRIFT_SUFFIX,
  type BatchPlan,
} from '../batch.js';
import { detailsOf } from '../../recipes/declare.js';
import { buildLocsPlan, LOCS_SLOTS, runCommandPlan, TABLE_SLOT } from '../../recipes/plans.js';
import { shortName } from '../../recipes/registry.js';
import { outputValue, slotValue } from '../../recipes/runRecipe.js';
import { collectWarnings, locsReportData, writeReport } from '../report.js';
import { driftInterpolate, interpolatorPlot } from '../../recipes/modules/driftInterpolate.js';
import { locsRcc } from '../../recipes/modules/locsRcc.js';
import { locsFiducial, markerSources } from '../../recipes/modules/locsFiducial.js';
import { locsAim } from '../../recipes/modules/locsAim.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { addModuleFlags, paramsFromFlags, parsePositiveFlag } from '../flags.js';
import { addSaveRecipeOption, recipeFile, writeRecipeFile } from '../runPlan.js';
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
  saveRecipe?: string;
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

/**
 * Check --out-dir (a batch's results folder) can be made. It is made when the first output in it
 * is written (outputs in it are marked with inOutDir), so a refused command leaves no empty folder.
 */
export function checkOutDir(outDir: string | undefined): void {
  if (!outDir) return;
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out-dir ${outDir} is a file, not a folder`);
  checkFolderCanBeMade('--out-dir', outDir);
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
    .summary("measure the drift of localization tables by RCC and correct them (undrift: Picasso's word)")
    .alias('undrift')
    .description(
      'measure the drift of localization tables by RCC, correct them, and write the corrected tables ' +
        "(undrift: the same, Picasso's word). Without -o: <name>_undrift.<ext> (+ .yaml for Picasso) and <name>_drift.npz beside each input, or in --out-dir",
    )
    .argument('<inputs...>', "localization files (.csv, .tsv, .hdf, .h5r, .hdf5) or quoted globs ('run2/*.hdf5', 'raw/**/*.csv')")
    .option('-o, --output <file>', 'corrected table, for one input (format from the extension); default <name>_undrift.<ext>')
    .option('--out-dir <dir>', 'folder for the default outputs (created if missing); default: beside each input')
    .option('--format <ext>', "format of the default outputs: csv, tsv, hdf or hdf5 (default: the input's; .h5r gives .hdf)")
    .option('--force', "replace default outputs that exist already; accept a --pixel-size that disagrees with the file's own")
    .option('--drift-out <file.npz>', "the measured drift samples (numpy .npz, the original plugin's format); default without -o: <name>_drift.npz")
    .option('--plot <file>', 'drift plot, .png or .svg (several inputs: png or svg gives <name>_drift.png each)')
    .option(
      '--per-frame <file>',
      'the interpolated drift at every frame: .csv (t,x,y,z nm), Picasso .txt, ThunderSTORM .json (several inputs: csv/txt/json gives <name>_drift.<ext> each)',
    )
    .option('--pixel-size <nm>', "camera pixel size in nm, for Picasso files and drift .txt (default: the file's own)", (v) =>
      parsePositiveFlag('pixel-size', v),
    )
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option('--refine <on|off>', 'the fine stage after RCC (segments against a leave-one-out reference; resolves fast drift and jumps)', 'on')
    .option('--breaks <frames|auto|none>', "frames where the drift jumps, e.g. 12000,20000; 'auto' detects them", 'auto');
  cmd.option('--method <name>', `${LOCS_METHODS.join(' | ')}: RCC family (Locs_RCC), fiducial markers (Locs_Fiducial) or AIM (Locs_AIM)`, 'RCC');
  cmd.option(
    '--then <method>',
    "a second method that refines the first: 'fiducial' (markers tracked after the first method's drift; picks in its coordinates)",
  );
  addModuleFlags(
    cmd,
    locsRcc,
    Object.keys(locsRcc.params).filter((p) => p !== 'method'),
  );
  addModuleFlags(cmd, locsFiducial);
  addModuleFlags(cmd, locsAim);
  cmd.option(
    '--report <file.html>',
    'a self-contained HTML report: input, parameters and why, drift with its uncertainty, pairs and windows (RCC), markers (fiducial) or segments (AIM), warnings, before/after, FRC',
  );
  addModuleFlags(cmd, driftInterpolate);
  addSaveRecipeOption(cmd, 'ccdrift locs');
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
    const fidParams = { ...fiducialParams };
    if (opts.pixelSize !== undefined && !fidParams.pixel_size) fidParams.pixel_size = opts.pixelSize;
    // The modules this command runs, checked before any file is read; the same plan for every input.
    const locsPlan = buildLocsPlan(method, then, { rcc: rccParams, fiducial: fidParams, aim: aimParams, spline: splineParams });
    const { files, problems, batch } = batchInputs(args, readsTable, opts.output, (m) => say(opts, m));
    if (batch && rccParams.debug_cor_file) throw new UsageError('--debug-cor-file is for one input; run the file you want to inspect on its own');
    checkOutDir(opts.outDir);
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
      const outputs = inOutDir(
        [
          { path: output, what: opts.output ? '-o' : 'output', check: accepts.table(output) },
          ...optionalFile(driftOut, opts.driftOut ? '--drift-out' : 'drift file'),
          ...optionalFile(plot, '--plot', plot ? accepts.plot(plot) : undefined),
          ...optionalFile(report, '--report', report ? accepts.report(report) : undefined),
          ...optionalFile(perFrame, '--per-frame', perFrame ? accepts.perFrame(perFrame, pixelHint, pixelLater) : undefined),
          ...optionalFile(rccParams.debug_cor_file, '--debug-cor-file', accepts.tiff('--debug-cor-file', rccParams.debug_cor_file)),
        ],
        opts.outDir,
      );
      // Names ccdrift chose, and extension-only flags, never replace a file without --force.
      const defaults = outputs.filter(
        (o) =>
          o.what === 'output' ||
          o.what === 'drift file' ||
          (o.path !== opts.plot && o.path === plot) ||
          (o.path !== opts.perFrame && o.path === perFrame) ||
          (o.path !== opts.report && o.path === report),
      );
      return { input, outputs, defaults, scratch: optionalFile(rccParams.cache_fft, '--cache-fft'), paths: { output, driftOut, plot, perFrame, report } };
    });

    // One run context for every file: the worker pool settings and progress are shared.
    const ctx = makeRunContext({ ...opts, cacheFft: rccParams.cache_fft });
    // RCC's threads start while the first file is read.
    if (rccFamily) ctx.executor.warm?.();
    const correctOne = async (input: string, paths: LocsPaths) => {
      // The report lists this file's warnings: collect them while it runs.
      const progress = ctx.progress;
      const collected = collectWarnings(progress);
      if (paths.report) ctx.progress = collected.progress;
      try {
        const loaded: LocTable = await readTable(input, {
          pixelSizeNm: opts.pixelSize,
          table: opts.table,
          progress: ctx.progress,
          overridePixelSize: opts.force,
        });
        checkPixelSizeAgreement(input, loaded.metadata, opts.pixelSize, opts.force);
        const pixelSizeNm = opts.pixelSize ?? tablePixelSizeNm(loaded.metadata);
        if (paths.perFrame && extensionOf(paths.perFrame) === '.txt' && !pixelSizeNm) {
          // Before any work: the table states no pixel size (no Picasso yaml, no PYME voxelsize).
          throw new UsageError(
            `--per-frame ${paths.perFrame}: Picasso drift files are in camera pixels and ${input} states no pixel size; give --pixel-size <nm>`,
          );
        }
        say(opts, `${input}: ${loaded.length} localizations`);
        const reports: string[] = [];
        // Each module's outputs, for the report (the estimators' details) and --debug-cor-file.
        const outputsOf = new Map<string, Record<string, unknown>>();
        const run = await runCommandPlan(locsPlan.plan, { [TABLE_SLOT]: loaded }, ctx, {
          wantedSlots: new Set([locsPlan.tableSlot, ...Object.values(LOCS_SLOTS)]),
          onStepDone: (step, report, _seconds, outputs) => {
            if (outputs) outputsOf.set(step.decl.name, outputs);
            if (![locsRcc.name, locsAim.name, locsFiducial.name].includes(step.decl.name)) return;
            const after = step.decl.name === locsFiducial.name && then ? ` (after ${method})` : '';
            say(opts, `${shortName(step.decl.name)}${after}: ${report ?? ''}`);
            reports.push(String(report));
          },
        });
        // The table Locs_Post_Shift corrected: the fiducial module's adds the column of the markers' rows.
        const table = slotValue(run, locsPlan.tableSlot, 'table');
        const drift = slotValue(run, LOCS_SLOTS.drift, 'drift');
        const interp = slotValue(run, LOCS_SLOTS.interpolator, 'interpolator');
        const corrected = slotValue(run, LOCS_SLOTS.corrected, 'table');
        const rcc = outputsOf.get(locsRcc.name);
        // The fiducial or AIM result, for the report.
        const marker =
          method === 'fiducial' || then === 'fiducial'
            ? detailsOf(locsFiducial, outputsOf.get(locsFiducial.name))
            : method === 'AIM'
              ? detailsOf(locsAim, outputsOf.get(locsAim.name))
              : undefined;
        const markerPlotSources = marker?.fiducial ? markerSources(marker.fiducial) : [];
        const label =
          method === 'fiducial'
            ? 'measured (fiducials)'
            : then === 'fiducial'
              ? `measured (${method}, then fiducials)`
              : method === 'AIM'
                ? 'measured (AIM)'
                : rccParams.refine
                  ? 'measured (RCC + fine stage)'
                  : 'measured (RCC)';
        const methodParams = method === 'fiducial' ? fidParams : method === 'AIM' ? aimParams : rccParams;
        const provenance = provenanceOf(
          'locs',
          { method, ...(then ? { then, fiducial: fidParams } : {}), ...methodParams, ...splineParams, chosen: reports.join(' | ') },
          input,
        );
        Object.assign(corrected.metadata, provenance.metadata);
        const written = await writeTable(paths.output, corrected, {
          inputs: [input],
          pixelSizeNm: opts.pixelSize,
          provenance: provenance.record,
          progress: ctx.progress,
        });
        sayWritten(opts, `wrote ${written.join(', ')}`);
        if (paths.driftOut) {
          const w = await writeDriftNpz(paths.driftOut, drift, { inputs: [input] });
          written.push(w);
          sayWritten(opts, `wrote ${w}`);
        }
        const crossCor = outputValue(rcc, 'output_cross_cor', 'cross-correlation');
        if (rccParams.debug_cor_file && crossCor) {
          sayWritten(opts, `wrote ${await writeDebugCorrelations(rccParams.debug_cor_file, crossCor, [input])} (thresholded correlation, one image per pair)`);
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
          await writePerFrameOutputs(paths.perFrame, perFrame, pixelSizeNm, table.columns.has('z'), {
            frameBase,
            inputs: [input],
            sd: interp.evaluateSd?.(perFrame.t),
          });
          written.push(paths.perFrame);
          sayWritten(opts, `wrote ${paths.perFrame}`);
        }
        if (paths.report) {
          const data = await locsReportData({
            inputPath: input,
            command: ['ccdrift', ...process.argv.slice(2)].join(' '),
            table,
            corrected,
            result: rccFamily ? detailsOf(locsRcc, rcc) : undefined,
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

    const saveRecipe = async () => {
      if (!opts.saveRecipe) return;
      await writeRecipeFile(opts.saveRecipe, locsPlan.plan, {
        command: 'ccdrift locs',
        dataSlot: TABLE_SLOT,
        results: `the drift is '${LOCS_SLOTS.drift}', the corrected table '${LOCS_SLOTS.corrected}'`,
        inputs: files,
        quiet: opts.quiet,
      });
    };
    const recipe = inOutDir(recipeFile(opts.saveRecipe), opts.outDir);
    if (!batch) {
      if (problems.length) throw new InputError(problems[0].message);
      const plan = plans[0];
      await planOutputs([plan.input, ...(fiducialParams.picks ? [fiducialParams.picks] : [])], [...plan.outputs, ...recipe], plan.scratch ?? [], (m) =>
        say(opts, m),
      );
      refuseExisting(plan.defaults, opts.force);
      await makeOutputFolders([...plan.outputs, ...recipe]);
      // Written with the other outputs: all or nothing.
      await saveRecipe();
      await correctOne(plan.input, plan.paths);
      return;
    }
    const planProblems = checkBatchPlans(plans, files, opts.force);
    await removeStaleOutputs(plans, (m) => say(opts, m));
    // One recipe for every input, in place whichever of them fails.
    checkOutputPlan(files, recipe);
    await makeOutputFolders(recipe);
    await withOutputBatch(saveRecipe, undefined, { own: true });
    await runBatch(
      plans,
      planProblems,
      problems,
      (plan) => correctOne(plan.input, (plan as (typeof plans)[number]).paths),
      (line) => say(opts, line),
    );
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
