/**
 * `--report report.html` for `locs`, `images` and `run` (issue 15): gathers what the run measured
 * into the report's data (src/report/buildReport.ts) and writes one self-contained HTML file,
 * atomically. Before/after renders and the FRC are computed here from the data and the result.
 */
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { LocsRccResult } from '../core/drift/estimateDriftFromLocs.js';
import type { MarkerMethodResult } from '../core/drift/estimateDriftByMarkers.js';
import type { ImageRccResult } from '../core/drift/estimateDriftFromImages.js';
import { minMax } from '../core/histogram/binGrid.js';
import { applyDriftToStack } from '../core/image/applyDriftToStack.js';
import { FRC_THRESHOLD, fourierRingCorrelation, renderLocalizations, type FrcResult } from '../core/quality/frc.js';
import type { DriftInterpolator, ImageStack, LocTable, ProgressReporter } from '../core/types.js';
import { writeAtomically } from '../io/atomic.js';
import { renderDriftPlotSvg, renderVegaLiteSvg } from '../plot/driftPlot.js';
import type { DriftPlotData } from '../plot/driftPlotSpec.js';
import { renderParamsFor, type NameStyle } from '../recipes/parameterNames.js';
import { buildReportHtml, type ReportData, type ReportImage, type ReportTable } from '../report/buildReport.js';
import { encodeGreyPng, percentile, toGrey } from '../report/pngEncode.js';
import { VERSION } from '../version.js';

/** Side of the before/after renders (pixels; shown at twice this). */
export const RENDER_SIZE_PX = 256;
/** Side of the FRC images (pixels, a power of two). */
export const FRC_SIZE_PX = 512;
/** The data are split into this many time blocks; odd and even blocks make the FRC's two halves. */
export const FRC_TIME_BLOCKS = 20;
/** Image stacks: at most this many time points are averaged for the renders and the FRC. */
const MAX_REPORT_FRAMES = 64;
/** Render pixel (nm) of the before/after images when no RCC precision estimate is at hand (fiducial, AIM). */
const MARKER_RENDER_PIXEL_NM = 5;

/** Warnings, collected as they are given (parameters named as the user typed them, `names`) and still passed on to the terminal. */
export function collectWarnings(progress: ProgressReporter | undefined, names: NameStyle = 'flag'): { progress: ProgressReporter; warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    progress: {
      ...progress,
      warn: (m: string) => {
        warnings.push(renderParamsFor(m, names));
        progress?.warn?.(m);
      },
    },
  };
}

export async function writeReport(path: string, data: ReportData, inputs: string[]): Promise<void> {
  const html = buildReportHtml(data);
  await writeAtomically([path], ([temp]) => fs.writeFile(temp, html), inputs);
}

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');

function rmsOf(v: Float64Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return v.length ? Math.sqrt(s / v.length) : NaN;
}

/** Parameters as used: the flag/recipe value, marked 'auto' where the estimator chose it. */
function parameterRows(params: Record<string, unknown>, auto: Record<string, string> = {}): [string, string, string][] {
  return Object.entries(params)
    .filter(([, v]) => v !== '' && v !== undefined)
    .map(([k, v]) => [k, v === 'auto' && auto[k] ? auto[k] : String(v), v === 'auto' ? 'auto: from the data' : 'given / default']);
}

/** The pair residual plot and the rejected pairs. */
async function pairSection(r: LocsRccResult | ImageRccResult, unit: string): Promise<ReportData['pairs']> {
  const s = r.solution;
  const nPairs = r.pairs.length / 2;
  const rows: { sep: number; residualNm: number; status: string; pair: string }[] = [];
  const rejected: ReportTable = { headers: ['pair', 'measured x, y, z (nm)', 'residual (nm)'], rows: [] };
  for (let p = 0; p < nPairs; p++) {
    const i = r.pairs[2 * p];
    const j = r.pairs[2 * p + 1];
    const res = s.residuals[p];
    const measured = Number.isFinite(r.pairShiftsNm[3 * p]);
    const status = !measured ? 'no peak' : s.used[p] ? 'used' : 'rejected';
    if (measured && Number.isFinite(res)) rows.push({ sep: j - i, residualNm: res, status, pair: `${i}–${j}` });
    if (status !== 'used') {
      rejected.rows.push([`${unit} ${i}–${j}`, measured ? [0, 1, 2].map((a) => fmt(r.pairShiftsNm[3 * p + a])).join(', ') : 'no peak', fmt(res, 2)]);
    }
  }
  const used = s.used.reduce((a, b) => a + b, 0);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 700,
    height: 220,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 30, opacity: 0.8 },
        encoding: {
          x: { field: 'sep', type: 'quantitative', title: `pair separation j − i (${unit}s)` },
          y: { field: 'residualNm', type: 'quantitative', title: 'residual (nm)' },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['used', 'rejected'], range: ['#0072B2', '#D55E00'] },
            legend: { orient: 'top', title: null },
          },
        },
      },
      ...(Number.isFinite(s.shiftMax)
        ? [
            {
              data: { values: [{ y: s.shiftMax }] },
              mark: { type: 'rule' as const, strokeDash: [5, 3], color: '#D55E00' },
              encoding: { y: { field: 'y', type: 'quantitative' as const } },
            },
          ]
        : []),
    ],
    config: { font: 'DejaVu Sans' },
  };
  return {
    summary:
      `${nPairs} ${unit} pairs, ${used} used in the final solve` +
      (s.rejected ? `, ${s.rejected} rejected (residual above ${fmt(s.shiftMax, 2)} nm, the dashed line)` : '') +
      `; RMS residual of the used pairs ${rmsResidualText(r)}` +
      (s.fullRank ? '' : '; the kept pairs do not connect every window (minimum-norm solution)'),
    svg: rows.length ? await renderVegaLiteSvg(spec) : undefined,
    rejected,
  };
}

function rmsResidualText(r: LocsRccResult | ImageRccResult): string {
  const s = r.solution;
  const sums = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < s.used.length; p++) {
    if (!s.used[p]) continue;
    const i = r.pairs[2 * p];
    const j = r.pairs[2 * p + 1];
    for (let a = 0; a < 3; a++) sums[a] += (s.drift[a][j] - s.drift[a][i] - r.pairShiftsNm[3 * p + a]) ** 2;
    n++;
  }
  return n ? sums.map((v) => fmt(Math.sqrt(v / n), 2)).join(' / ') + ' nm (x / y / z)' : '—';
}

async function frcSvg(curves: { label: string; frc: FrcResult }[]): Promise<string> {
  const rows = curves.flatMap(({ label, frc }) => Array.from(frc.correlation, (c, k) => ({ label, f: frc.frequencyPerNm[k], c })).filter((r) => r.f > 0));
  return renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 500,
    height: 220,
    background: 'white',
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'f', type: 'quantitative', title: 'spatial frequency (1/nm)' },
          y: { field: 'c', type: 'quantitative', title: 'FRC', scale: { domain: [-0.2, 1] } },
          color: {
            field: 'label',
            type: 'nominal',
            scale: { domain: ['before', 'after'], range: ['#999999', '#0072B2'] },
            legend: { orient: 'top', title: null },
          },
        },
      },
      {
        data: { values: [{ y: FRC_THRESHOLD }] },
        mark: { type: 'rule', strokeDash: [5, 3], color: '#555' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
    config: { font: 'DejaVu Sans' },
  });
}

function greyImage(image: Float64Array, n: number, caption: string): ReportImage {
  const hi = Math.max(percentile(image, 0.995), 1e-9);
  return { caption, png: encodeGreyPng(toGrey(image, 0, hi, 0.6), n, n), width: 2 * n, height: 2 * n };
}

/** The densest square of `sidePx` × `pixelNm` (a coarse histogram's maximum), as its corner. */
function densestSquare(x: ArrayLike<number>, y: ArrayLike<number>, sideNm: number): [number, number] {
  let xl = Infinity;
  let yl = Infinity;
  let xh = -Infinity;
  let yh = -Infinity;
  for (let i = 0; i < x.length; i++) {
    xl = Math.min(xl, x[i]);
    xh = Math.max(xh, x[i]);
    yl = Math.min(yl, y[i]);
    yh = Math.max(yh, y[i]);
  }
  const nx = Math.max(1, Math.ceil((xh - xl) / sideNm));
  const ny = Math.max(1, Math.ceil((yh - yl) / sideNm));
  if (nx === 1 && ny === 1) return [(xl + xh - sideNm) / 2, (yl + yh - sideNm) / 2];
  const counts = new Float64Array(nx * ny);
  for (let i = 0; i < x.length; i++) counts[Math.min(ny - 1, Math.floor((y[i] - yl) / sideNm)) * nx + Math.min(nx - 1, Math.floor((x[i] - xl) / sideNm))]++;
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > counts[best]) best = k;
  return [xl + (best % nx) * sideNm, yl + Math.floor(best / nx) * sideNm];
}

export interface LocsReportInput {
  inputPath: string;
  command: string;
  table: LocTable;
  corrected: LocTable;
  /** The RCC family's result (with `--method RCC|MCC|DCC`, also before `--then fiducial`). */
  result?: LocsRccResult;
  /** The fiducial or AIM result (`--method fiducial|AIM`, or the `--then fiducial` stage). */
  marker?: MarkerMethodResult;
  interp: DriftInterpolator;
  plot: DriftPlotData;
  params: Record<string, unknown>;
  warnings: string[];
}

export async function locsReportData(o: LocsReportInput): Promise<ReportData> {
  const { table, corrected, result: r, marker: mk } = o;
  const t = table.columns.get('t')!;
  const x = table.columns.get('x')!;
  const y = table.columns.get('y')!;
  const [t0, t1] = minMax(t, 't');
  const input: [string, string][] = [
    ['file', basename(o.inputPath)],
    ['localizations', String(table.length)],
    ['frames', `${t0} – ${t1}`],
    ['columns', [...table.columns.keys()].join(', ')],
    ['dimensions', table.columns.has('z') ? '3D (x, y, z)' : '2D (x, y)'],
  ];
  if (r?.choices.precision) input.push(['precision', `${fmt(r.choices.precision.lateralNm)} nm lateral (${r.choices.precision.source})`]);
  const sd = (mk ?? r)?.drift.sd;
  const unc = r?.uncertainty;
  const uncertainty: string[] = [
    mk?.method === 'AIM'
      ? "Each AIM sample: the sandwich standard error of its segment registered against a leave-one-out reference of all other localizations (the second round's last pass)."
      : mk?.method === 'fiducial'
        ? "Each fiducial sample: the standard error of the markers' robustly weighted mean over its block of frames."
        : !unc
          ? 'No standard errors.'
          : unc.method === 'fine'
            ? 'Each fine-stage sample: the sandwich standard error of its segment registered against a leave-one-out reference of all other localizations, × 1.2 (calibrated on simulations).'
            : "Each RCC sample: the least-squares covariance scaled by the pair residuals, plus each window's own error, measured by registering windows of the same size once against all other localizations " +
              `(RMS difference from RCC ${unc.validationNm.map((v) => fmt(v, 2)).join(' / ')} nm).`,
    sd
      ? `RMS standard error of the samples: ${(['x', 'y', 'z'] as const).map((a) => fmt(rmsOf(sd[a]), 2)).join(' / ')} nm (x / y / z), the constant offset removed.`
      : 'No standard errors.',
    "The band is the samples' standard errors pushed through the smoothing spline (Monte Carlo); between sparse samples it does not include the drift the samples cannot see.",
  ];
  // Before/after render of the densest region, and the FRC of alternating time blocks.
  const precision = r ? (r.choices.precision?.lateralNm ?? r.choices.binSizeNm / 2) : 2 * MARKER_RENDER_PIXEL_NM;
  const pixelNm = Math.min(20, Math.max(2, precision / 2));
  const cx = corrected.columns.get('x')!;
  const cy = corrected.columns.get('y')!;
  const [rx, ry] = densestSquare(cx, cy, RENDER_SIZE_PX * pixelNm);
  const before = renderLocalizations(x, y, rx, ry, pixelNm, RENDER_SIZE_PX);
  const after = renderLocalizations(cx, cy, rx, ry, pixelNm, RENDER_SIZE_PX);
  const [fx, fy] = densestSquare(cx, cy, FRC_SIZE_PX * pixelNm);
  const block = Math.max(1, (t1 - t0 + 1) / FRC_TIME_BLOCKS);
  const half = (i: number) => Math.floor((t[i] - t0) / block) % 2;
  const frc = (xs: ArrayLike<number>, ys: ArrayLike<number>) =>
    fourierRingCorrelation(
      renderLocalizations(xs, ys, fx, fy, pixelNm, FRC_SIZE_PX, (i) => half(i) === 0),
      renderLocalizations(xs, ys, fx, fy, pixelNm, FRC_SIZE_PX, (i) => half(i) === 1),
      FRC_SIZE_PX,
      pixelNm,
    );
  const frcBefore = frc(x, y);
  const frcAfter = frc(cx, cy);
  const res = (f: FrcResult) => (f.resolutionNm === null ? 'not reached (finer than 2 pixels)' : `${fmt(f.resolutionNm)} nm`);
  const windowsTable: ReportTable | undefined = r && {
    headers: ['window', 'frames', 'localizations', 'sample time', 'status'],
    rows: r.windows.map((w, i) => [
      i,
      `${w.startFrame} – ${w.endFrame}`,
      w.to - w.from,
      fmt(w.sampleTime ?? (w.startFrame + w.endFrame) / 2, 0),
      r.sparseWindows.includes(i) ? 'left out (sparse)' : r.measuredWindows.includes(i) ? 'measured' : 'left out (no pair)',
    ]),
    marked: r.windows.map((_, i) => !r.measuredWindows.includes(i)),
  };
  const fine = r?.refinement;
  return {
    title: `ccdrift locs: ${basename(o.inputPath)}`,
    command: o.command,
    input,
    chosen: [r?.choices.summary, mk?.choices.summary].filter(Boolean).join(' | '),
    parameters: parameterRows(
      o.params,
      r
        ? {
            binsize: `${r.choices.binSizeNm}`,
            step: String(r.choices.stepFrames),
            window: String(r.choices.windowFrames),
            shift_max: fmt(r.solution.shiftMax, 2),
          }
        : mk?.aim
          ? { segment: String(mk.aim.segmentFrames) }
          : {},
    ),
    uncertainty,
    driftSvg: await renderDriftPlotSvg(o.plot),
    pairs: r && (await pairSection(r, 'window')),
    sections: mk ? [markerSection(mk)] : undefined,
    windows: r &&
      windowsTable && {
        summary:
          `${r.windows.length} RCC windows, ${r.measuredWindows.length} measured` +
          (fine
            ? `; fine stage: ${fine.segments.length} segments (median ${medianCount(fine.segments)} localizations), ${fine.weakSegments.length} without a clear peak, ` +
              `${fine.iterations} passes, last change ${fmt(fine.lastChangeNm, 2)} nm` +
              (fine.breaks.length ? `; breaks at frames ${fine.breaks.join(', ')}` : '')
            : ''),
        table: windowsTable,
      },
    warnings: o.warnings,
    renders: {
      summary: `The densest ${fmt((RENDER_SIZE_PX * pixelNm) / 1000, 2)} µm square of the field (x ${fmt(rx, 0)}…, y ${fmt(ry, 0)}… nm), ${fmt(pixelNm)} nm pixels, before and after the correction.`,
      images: [greyImage(before, RENDER_SIZE_PX, 'before correction'), greyImage(after, RENDER_SIZE_PX, 'after correction')],
    },
    frc: {
      summary:
        `Halves: ${FRC_TIME_BLOCKS} alternating time blocks of ~${Math.round(block)} frames, the densest ${fmt((FRC_SIZE_PX * pixelNm) / 1000, 2)} µm square at ${fmt(pixelNm)} nm pixels. ` +
        `FRC resolution (1/7 threshold): before ${res(frcBefore)}, after ${res(frcAfter)}.`,
      svg: await frcSvg([
        { label: 'before', frc: frcBefore },
        { label: 'after', frc: frcAfter },
      ]),
    },
    footer: `ccdrift ${VERSION}, ${new Date().toISOString()}`,
  };
}

/** The fiducial markers or the AIM segments, as a table with a summary. */
function markerSection(mk: MarkerMethodResult): { heading: string; summary: string; table: ReportTable } {
  if (mk.fiducial) {
    const f = mk.fiducial;
    return {
      heading: 'Fiducial markers',
      summary: `${f.markers.length} markers found, ${f.markers.filter((m) => m.used).length} used; frames with a marker measurement: ${f.coveredFrames} of ${f.totalFrames} (the others are bridged).`,
      table: {
        headers: ['marker', 'x (nm)', 'y (nm)', 'z (nm)', 'radius (nm)', 'frames found', 'frames used', 'scatter x / y / z (nm)', 'used', 'note'],
        rows: f.markers.map((m, i) => [
          i + 1,
          fmt(m.x, 0),
          fmt(m.y, 0),
          fmt(m.z, 0),
          fmt(m.radiusNm, 0),
          `${m.frames} (${fmt(100 * m.fraction, 0)} %)`,
          m.usedFrames,
          m.sdNm.map((v) => fmt(v, 1)).join(' / '),
          m.used ? 'yes' : 'no',
          m.note ?? '',
        ]),
        marked: f.markers.map((m) => !m.used),
      },
    };
  }
  const a = mk.aim!;
  const unclear = new Set(a.unclearSegments);
  const widened = new Set(a.widenedSegments);
  const moved = new Set(a.movedSegments);
  return {
    heading: 'AIM segments',
    summary:
      `${a.segments.length} segments of ${a.segmentFrames} frames (median ${medianCount(a.segments)} localizations); ${a.segments.length - unclear.size} with a clear maximum, ` +
      `${unclear.size} without (bridged), ${widened.size} searched beyond the radius, ${moved.size} moved to where their neighbours put them; ` +
      `second round: ${a.passes} passes, last change ${fmt(a.lastChangeNm, 2)} nm.`,
    table: {
      headers: ['segment', 'frames', 'localizations', 'sample time', 'status'],
      rows: a.segments.map((sg, k) => [
        k,
        `${sg.startFrame} – ${sg.endFrame - 1}`,
        sg.to - sg.from,
        fmt(sg.t, 0),
        unclear.has(k)
          ? 'no clear maximum (bridged)'
          : [moved.has(k) ? 'moved' : '', widened.has(k) ? 'searched wider' : ''].filter(Boolean).join(', ') || 'measured',
      ]),
      marked: a.segments.map((_, k) => unclear.has(k)),
    },
  };
}

function medianCount(segments: { from: number; to: number }[]): number {
  const c = segments.map((s) => s.to - s.from).sort((a, b) => a - b);
  return c.length ? c[c.length >> 1] : 0;
}

export interface ImagesReportInput {
  inputPath: string;
  command: string;
  stack: ImageStack;
  result: ImageRccResult;
  interp: DriftInterpolator;
  plot: DriftPlotData;
  params: Record<string, unknown>;
  warnings: string[];
  paddingMultiplier: number;
}

/** Mean of the middle plane over `frames` of a stack, cropped to `side`² from (x0, y0). */
async function meanImage(stack: ImageStack, frames: number[], x0: number, y0: number, side: number): Promise<Float64Array> {
  const out = new Float64Array(side * side);
  const plane = Math.floor(stack.depth / 2) * stack.width * stack.height;
  for (const f of frames) {
    const frame = await stack.readFrame(f);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] += frame[plane + (y0 + y) * stack.width + x0 + x];
  }
  for (let i = 0; i < out.length; i++) out[i] /= Math.max(1, frames.length);
  return out;
}

export async function imagesReportData(o: ImagesReportInput): Promise<ReportData> {
  const { stack, result: r } = o;
  const sd = r.drift.sd;
  const n = stack.frames;
  const pick = Array.from({ length: Math.min(n, MAX_REPORT_FRAMES) }, (_, k) => Math.round((k * (n - 1)) / Math.max(1, Math.min(n, MAX_REPORT_FRAMES) - 1)));
  const frames = [...new Set(pick)];
  let side = 1;
  while (side * 2 <= Math.min(stack.width, stack.height, FRC_SIZE_PX)) side *= 2;
  const x0 = Math.floor((stack.width - side) / 2);
  const y0 = Math.floor((stack.height - side) / 2);
  const corrected = applyDriftToStack(stack, o.interp, { paddingMultiplier: o.paddingMultiplier, floatOutput: true });
  let images: ReportImage[];
  let frcBefore: FrcResult | null = null;
  let frcAfter: FrcResult | null = null;
  try {
    const before = await meanImage(stack, frames, x0, y0, side);
    const after = await meanImage(corrected, frames, x0, y0, side);
    const lo = percentile(before, 0.01);
    const sub = (a: Float64Array) => a.map((v) => v - lo);
    images = [greyImage(sub(before), side, `before: mean of ${frames.length} time points`), greyImage(sub(after), side, 'after correction')];
    if (side >= 16 && frames.length >= 4) {
      const block = Math.max(1, n / FRC_TIME_BLOCKS);
      const halves = [0, 1].map((h) => frames.filter((f) => Math.floor(f / block) % 2 === h));
      if (halves.every((h) => h.length > 0)) {
        const px = stack.voxelSizeNm[0];
        frcBefore = fourierRingCorrelation(await meanImage(stack, halves[0], x0, y0, side), await meanImage(stack, halves[1], x0, y0, side), side, px);
        frcAfter = fourierRingCorrelation(await meanImage(corrected, halves[0], x0, y0, side), await meanImage(corrected, halves[1], x0, y0, side), side, px);
      }
    }
  } finally {
    corrected.dispose();
  }
  const res = (f: FrcResult) => (f.resolutionNm === null ? 'not reached (finer than 2 pixels)' : `${fmt(f.resolutionNm)} nm`);
  return {
    title: `ccdrift images: ${basename(o.inputPath)}`,
    command: o.command,
    input: [
      ['file', basename(o.inputPath)],
      ['time points', String(n)],
      ['frame', `${stack.width} × ${stack.height}${stack.depth > 1 ? ` × ${stack.depth}` : ''} ${stack.dtype}`],
      ['voxel size', `${stack.voxelSizeNm.join(' × ')} nm`],
    ],
    chosen: `corr_window ${r.corrWindow === 0 ? 'all pairs' : r.corrWindow}; shift_max ${fmt(r.solution.shiftMax, 2)} nm`,
    parameters: parameterRows(o.params, { shift_max: fmt(r.solution.shiftMax, 2), corr_window: r.corrWindow === 0 ? 'all pairs' : String(r.corrWindow) }),
    uncertainty: [
      "Each time point: the least-squares covariance scaled by the pair residuals, plus each frame's own noise from the scatter of the samples' fifth differences, plus a floor of 0.01 pixel for the sub-pixel peak's bias.",
      sd
        ? `RMS standard error: ${(['x', 'y', 'z'] as const).map((a) => fmt(rmsOf(sd[a]), 2)).join(' / ')} nm (x / y / z), the constant offset removed.`
        : 'No standard errors.',
    ],
    driftSvg: await renderDriftPlotSvg(o.plot),
    pairs: await pairSection(r, 'time point'),
    warnings: o.warnings,
    renders: {
      summary: `The central ${side} × ${side} pixels${stack.depth > 1 ? ' of the middle plane' : ''}, mean of ${frames.length} evenly spaced time points, before and after the correction.`,
      images,
    },
    frc:
      frcBefore && frcAfter
        ? {
            summary: `Halves: mean images of alternating time blocks (${FRC_TIME_BLOCKS} blocks). FRC resolution (1/7): before ${res(frcBefore)}, after ${res(frcAfter)}.`,
            svg: await frcSvg([
              { label: 'before', frc: frcBefore },
              { label: 'after', frc: frcAfter },
            ]),
          }
        : { summary: 'Not computed: too few time points or too small a frame.' },
    footer: `ccdrift ${VERSION}, ${new Date().toISOString()}`,
  };
}
