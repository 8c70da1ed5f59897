import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { basename } from 'node:path';
import type { CrossCorrelationStack } from '../../recipes/modules/locsRcc.js';
import { sampleDriftPerFrame } from '../../core/drift/driftInterpolator.js';
import type { DriftInterpolator, DriftTrace, LocTable } from '../../core/types.js';
import { readTable, writeTable } from '../../io/index.js';
import { driftNpzPath, writeDriftNpz } from '../../io/npz.js';
import { writeDriftPlot } from '../../io/plotFile.js';
import { accepts, optionalFile, planOutputs } from '../outputPlan.js';
import { DETAILS_KEY, REPORT_KEY } from '../../recipes/declare.js';
import type { LocsRccResult } from '../../core/drift/estimateDriftFromLocs.js';
import { collectWarnings, locsReportData, writeReport } from '../report.js';
import { driftInterpolate, interpolatorPlot } from '../../recipes/modules/driftInterpolate.js';
import { locsPostShift } from '../../recipes/modules/locsPostShift.js';
import { locsRcc } from '../../recipes/modules/locsRcc.js';
import { addCommonOptions, makeRunContext, type CommonOptions } from '../context.js';
import { addModuleFlags, paramsFromFlags, parseNumberFlag } from '../flags.js';
import { provenanceOf, say, writeDebugCorrelations, writePerFrameOutputs } from '../output.js';

interface LocsOptions extends CommonOptions {
  output: string;
  driftOut?: string;
  plot?: string;
  perFrame?: string;
  pixelSize?: number;
  table?: string;
  refine: string;
  breaks: string;
  report?: string;
}

export function registerLocsCommand(program: Command): void {
  const cmd = program
    .command('locs')
    .description('measure the drift of a localization table by RCC, correct it, and write the corrected table')
    .argument('<input>', 'localization file (.csv; .hdf/.h5r/.hdf5 when HDF5 support is present)')
    .requiredOption('-o, --output <file>', 'corrected table (format from the extension)')
    .option('--drift-out <file.npz>', 'write the measured drift samples (numpy .npz, the original plugin\'s format)')
    .option('--plot <file>', 'drift plot, .png or .svg')
    .option('--per-frame <file>', 'the interpolated drift at every frame: .csv (t,x,y,z nm) or Picasso .txt (needs --pixel-size)')
    .option('--pixel-size <nm>', 'camera pixel size in nm, for Picasso files and drift .txt', (v) => parseNumberFlag('pixel-size', v))
    .option('--table <name>', 'table inside an HDF5 file with several')
    .option('--refine <on|off>', 'the fine stage after RCC (segments against a leave-one-out reference; resolves fast drift and jumps)', 'on')
    .option('--breaks <frames|auto|none>', "frames where the drift jumps, e.g. 12000,20000; 'auto' detects them", 'auto')
    .option('--report <file.html>', 'a self-contained HTML report: input, parameters and why, drift with its uncertainty, pairs, windows, warnings, before/after, FRC');
  addModuleFlags(cmd, locsRcc);
  addModuleFlags(cmd, driftInterpolate);
  addCommonOptions(cmd);
  cmd.action(async (input: string, opts: LocsOptions) => {
    if (!['on', 'off'].includes(opts.refine)) throw new UsageError(`--refine must be on or off, got '${opts.refine}'`);
    const rccParams = paramsFromFlags(locsRcc, opts as unknown as Record<string, unknown>, { refine: opts.refine === 'on', breaks: opts.breaks });
    const splineParams = paramsFromFlags(driftInterpolate, opts as unknown as Record<string, unknown>);
    // The command uses the drift, the interpolator and the corrected table; Locs_RCC's legacy
    // outputName table (a second full correction) is not asked for.
    const ctx = makeRunContext(
      { ...opts, cacheFft: rccParams.cache_fft as string },
      { wantedOutputs: new Set(['output_drift', 'output_drift_plot', 'output_drift_interpolator', 'output_name']) },
    );
    await planOutputs(
      [input],
      [
        { path: opts.output, what: '-o', check: accepts.table(opts.output) },
        ...optionalFile(opts.driftOut && driftNpzPath(opts.driftOut), '--drift-out'),
        ...optionalFile(opts.plot, '--plot', opts.plot ? accepts.plot(opts.plot) : undefined),
        ...optionalFile(opts.report, '--report', opts.report ? accepts.report(opts.report) : undefined),
        ...optionalFile(opts.perFrame, '--per-frame', opts.perFrame ? accepts.perFrame(opts.perFrame, opts.pixelSize) : undefined),
        ...optionalFile(rccParams.debug_cor_file as string, '--debug-cor-file', accepts.tiff('--debug-cor-file', rccParams.debug_cor_file as string)),
      ],
      optionalFile(rccParams.cache_fft as string, '--cache-fft'), (m) => say(opts, m));
    const collected = collectWarnings(ctx.progress);
    if (opts.report) ctx.progress = collected.progress;
    const table: LocTable = await readTable(input, { pixelSizeNm: opts.pixelSize, table: opts.table, progress: ctx.progress });
    say(opts, `${input}: ${table.length} localizations`);
    const rcc = await locsRcc.run(ctx, { input_for_correction: table }, rccParams);
    say(opts, `Locs_RCC: ${rcc[REPORT_KEY]}`);
    const drift = rcc.output_drift as DriftTrace;
    const interp = (await driftInterpolate.run(ctx, { input_drift_raw: drift }, splineParams)).output_drift_interpolator as DriftInterpolator;
    const corrected = (await locsPostShift.run(ctx, { input_localizations: table, input_drift_interpolator: interp }, {})).output_name as LocTable;
    const provenance = provenanceOf('locs', { ...rccParams, ...splineParams, chosen: rcc[REPORT_KEY] }, input);
    Object.assign(corrected.metadata, provenance.metadata);
    const written = await writeTable(opts.output, corrected, { inputs: [input], pixelSizeNm: opts.pixelSize, provenance: provenance.record, progress: ctx.progress });
    say(opts, `wrote ${written.join(', ')}`);
    if (opts.driftOut) say(opts, `wrote ${await writeDriftNpz(opts.driftOut, drift, { inputs: [input] })}`);
    if (rccParams.debug_cor_file) {
      say(opts, `wrote ${await writeDebugCorrelations(rccParams.debug_cor_file as string, rcc.output_cross_cor as CrossCorrelationStack, [input])} (thresholded correlation, one image per pair)`);
    }
    const t = table.columns.get('t')!;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const plotData = interpolatorPlot(interp, [rccParams.refine ? 'measured (RCC + fine stage)' : 'measured (RCC)'], `Drift of ${basename(input)}`, {
      frames: [Math.floor(lo), Math.ceil(hi)],
      subtitle: `${table.length} localizations; ${String(rcc[REPORT_KEY]).split('; grid')[0]}; smoothing ${splineParams.smoothing_factor}`,
    });
    if (opts.plot) {
      await writeDriftPlot(opts.plot, plotData);
      say(opts, `wrote ${opts.plot}`);
    }
    if (opts.perFrame) {
      const perFrame = sampleDriftPerFrame(interp, Math.floor(lo), Math.ceil(hi));
      await writePerFrameOutputs(opts.perFrame, perFrame, opts.pixelSize, table.columns.has('z'), interp.evaluateSd?.(perFrame.t));
      say(opts, `wrote ${opts.perFrame}`);
    }
    if (opts.report) {
      const data = await locsReportData({
        inputPath: input,
        command: ['ccdrift', ...process.argv.slice(2)].join(' '),
        table,
        corrected,
        result: rcc[DETAILS_KEY] as LocsRccResult,
        interp,
        plot: plotData,
        params: { ...rccParams, ...splineParams },
        warnings: collected.warnings,
      });
      await writeReport(opts.report, data, [input]);
      say(opts, `wrote ${opts.report}`);
    }
    const ex = drift.x;
    say(opts, `drift range: x ${span(ex)} nm, y ${span(drift.y)} nm${table.columns.has('z') && !rccParams.flatten_z ? `, z ${span(drift.z)} nm` : ''}`);
  });
}

function span(v: Float64Array): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of v) {
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  return `${lo.toFixed(1)} … ${hi.toFixed(1)}`;
}
