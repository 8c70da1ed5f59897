/**
 * The drift plot (SPEC §4.6) as a Vega-Lite specification: one panel per axis stacked
 * vertically on a shared time axis, "Time (frame)" against the correction added (nm), measured
 * samples as points (one colour per source), the interpolated curve as a solid line with a band
 * of ±2 standard errors (dashed and faded where it is extrapolated), reference traces (e.g.
 * ground truth) as dashed lines, one legend naming every series; optionally an x–y trajectory.
 *
 * Pure: no `node:` imports, so the browser app can embed the same spec (e.g. interactively)
 * that the CLI renders to SVG/PNG. Drift values are plotted as stored, i.e. as the correction
 * to ADD (see `core/types.ts`).
 */
import type { TopLevelSpec } from 'vega-lite';
import { InputError, UsageError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';

export type DriftAxis = 'x' | 'y' | 'z';

/** One named trace in the plot; `label` appears in the legend and must be unique in the plot. */
export interface DriftPlotSeries {
  label: string;
  trace: DriftTrace;
}

export interface DriftPlotData {
  /** Measured drift samples, drawn as points, one colour per source. */
  sources: DriftPlotSeries[];
  /** The interpolated drift, drawn as a solid line; give it densely evaluated (e.g. every frame). */
  curve?: DriftPlotSeries;
  /** Other traces to compare with (ground truth, another estimator), drawn as dashed lines. */
  references?: DriftPlotSeries[];
  /**
   * Axes to plot, one panel each, in this order.
   * @default ['x', 'y'], plus 'z' when any trace has a non-zero finite z
   */
  axes?: DriftAxis[];
  /**
   * Standard error of `curve` per axis (nm), one value per curve sample: drawn as a band of
   * ±BAND_SD standard errors around it.
   */
  curveSd?: { x: Float64Array; y: Float64Array; z: Float64Array };
  /**
   * First and last measured sample time: the curve beyond them is extrapolated and drawn
   * dashed and faded. @default none (all of the curve drawn solid)
   */
  measuredRange?: readonly [number, number];
  /** Add a panel with the x–y trajectory of the curve (lateral drift, start and end marked). @default false */
  trajectory?: boolean;
  /** Title above the panels. @default none */
  title?: string;
  /** A second title line (e.g. the key parameters). @default none */
  subtitle?: string;
  /** Width of each panel's plotting area in px (axes and legend come on top). @default 800 */
  width?: number;
  /** Height of each panel's plotting area in px. @default 220 */
  height?: number;
}

/**
 * Largest number of samples plotted per series and axis; longer series are decimated evenly
 * (keeping both ends). A line sampled at ~4000 points over an 800 px panel is visually exact,
 * while the SVG stays small (a 10^5-frame curve would otherwise be megabytes).
 */
export const MAX_PLOTTED_SAMPLES = 4000;

export const DEFAULT_PANEL_WIDTH_PX = 800;
export const DEFAULT_PANEL_HEIGHT_PX = 220;

/** The one font used for every piece of text; shipped in `assets/fonts/` so PNGs are identical everywhere. */
export const PLOT_FONT_FAMILY = 'DejaVu Sans';

/**
 * Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), without its
 * yellow (unreadable on white) and black (reserved for the interpolated curve).
 */
const SOURCE_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00'];
const CURVE_COLOUR = '#1a1a1a';
/** References start in neutral grey, then reuse the palette from its far end. */
const REFERENCE_COLOURS = ['#7f7f7f', '#D55E00', '#56B4E9', '#CC79A7', '#009E73', '#E69F00'];

const REFERENCE_DASH_PX = [7, 4];
/** The extrapolated ends of the curve: short dashes, faded. */
const EXTRAPOLATED_DASH_PX = [3, 3];
const EXTRAPOLATED_OPACITY = 0.55;
const BAND_COLOUR = '#9ecae1';
const BAND_OPACITY = 0.45;
/** The band spans ± this many standard errors. */
export const BAND_SD = 2;
/** What the drift axis shows: the correction ccdrift adds (the mirror image of Picasso's drift plot). */
export const DRIFT_AXIS_TITLE = 'correction added (nm)';
export const TRAJECTORY_SIZE_PX = 320;
/** The subtitle is wrapped to lines of at most this many characters (about the panel width). */
const SUBTITLE_LINE_CHARS = 120;

/** Lines of at most `width` characters, broken at spaces (a longer word stays whole). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
const AXES: readonly DriftAxis[] = ['x', 'y', 'z'];

type SeriesKind = 'source' | 'curve' | 'reference' | 'extrapolated';

/** One plotted sample; the long ("tidy") layout Vega-Lite facets on. */
interface PlotRow {
  axis: DriftAxis;
  series: string;
  kind: SeriesKind;
  tFrame: number;
  driftNm: number;
  /** The band around the curve (curve rows with a known sd). */
  lo?: number;
  hi?: number;
  /** Extrapolated rows: 'before' or 'after' the samples (drawn as separate lines). */
  part?: string;
}

/**
 * Indices `0 … n-1` reduced to at most `maxCount`, evenly spaced, always keeping the first
 * and last. Returns every index when `n <= maxCount`.
 */
export function decimationIndices(n: number, maxCount: number = MAX_PLOTTED_SAMPLES): number[] {
  if (!Number.isInteger(maxCount) || maxCount < 2) {
    throw new UsageError(`decimation: maxCount must be an integer >= 2 (both ends are kept); received ${maxCount}`);
  }
  if (n <= maxCount) return Array.from({ length: n }, (_, i) => i);
  const step = (n - 1) / (maxCount - 1);
  return Array.from({ length: maxCount }, (_, i) => Math.round(i * step));
}

/** Tick-label font size of the panels, px. */
const TICK_LABEL_FONT_PX = 12;

/**
 * Width (px) taken by the widest drift tick label plus tick and padding, as Vega estimates text
 * in Node (0.8 em per character); an upper bound in browsers, which measure real glyphs.
 */
function estimateTickLabelExtentPx(rows: PlotRow[]): number {
  let maxAbsNm = 0;
  for (const r of rows) maxAbsNm = Math.max(maxAbsNm, Math.abs(r.driftNm));
  // Nice tick ends may go one digit beyond the data (85 -> 100).
  const integerDigits = Math.max(1, Math.floor(Math.log10(Math.max(maxAbsNm, 1))) + 1) + 1;
  const thousandsSeparators = Math.floor((integerDigits - 1) / 3);
  // Small ranges get decimals ("−0.05", "1.5"): allow a point and two digits.
  const decimals = maxAbsNm < 10 ? 3 : 0;
  const chars = 1 + integerDigits + thousandsSeparators + decimals;
  return Math.ceil(0.8 * TICK_LABEL_FONT_PX * chars) + 8;
}

function checkTrace(label: string, trace: DriftTrace): void {
  const n = trace.t.length;
  for (const axis of AXES) {
    if (trace[axis].length !== n) {
      throw new InputError(
        `drift plot: series '${label}' has ${n} times but ${trace[axis].length} ${axis} values; ` + 'every column of a drift trace must have the same length',
      );
    }
  }
}

function hasNonZeroZ(trace: DriftTrace): boolean {
  return trace.z.some((v) => Number.isFinite(v) && v !== 0);
}

function resolveAxes(requested: DriftAxis[] | undefined, traces: DriftTrace[]): DriftAxis[] {
  if (requested === undefined) return traces.some(hasNonZeroZ) ? ['x', 'y', 'z'] : ['x', 'y'];
  if (requested.length === 0) {
    throw new UsageError("drift plot: axes is empty; give at least one of 'x', 'y', 'z' (or omit it for the default)");
  }
  const seen = new Set<string>();
  for (const a of requested) {
    if (!AXES.includes(a)) {
      throw new UsageError(`drift plot: unknown axis '${String(a)}'; expected 'x', 'y' or 'z'`);
    }
    if (seen.has(a)) throw new UsageError(`drift plot: axis '${a}' is listed twice in axes [${requested.join(', ')}]`);
    seen.add(a);
  }
  return [...requested];
}

function checkSize(name: 'width' | 'height', value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 50 || value > 10_000) {
    throw new UsageError(`drift plot: ${name} must be between 50 and 10000 px; received ${value}`);
  }
  return value;
}

/**
 * The Vega-Lite specification of the drift plot. Validates the input (equal column lengths,
 * unique labels, known axes) and decimates series longer than `MAX_PLOTTED_SAMPLES`.
 * Deterministic: the same data gives the same spec.
 */
export function buildDriftPlotSpec(data: DriftPlotData): TopLevelSpec {
  const series: { label: string; trace: DriftTrace; kind: SeriesKind }[] = [
    ...data.sources.map((s) => ({ ...s, kind: 'source' as const })),
    ...(data.curve ? [{ ...data.curve, kind: 'curve' as const }] : []),
    ...(data.references ?? []).map((s) => ({ ...s, kind: 'reference' as const })),
  ];
  if (series.length === 0) {
    throw new UsageError('drift plot: nothing to plot; give at least one source, a curve or a reference trace');
  }
  const labels = new Set<string>();
  for (const s of series) {
    if (labels.has(s.label)) {
      throw new UsageError(`drift plot: two series are labelled '${s.label}'; the legend needs distinct labels (e.g. add the file name)`);
    }
    labels.add(s.label);
    checkTrace(s.label, s.trace);
  }

  const axes = resolveAxes(
    data.axes,
    series.map((s) => s.trace),
  );
  const width = checkSize('width', data.width, DEFAULT_PANEL_WIDTH_PX);
  const height = checkSize('height', data.height, DEFAULT_PANEL_HEIGHT_PX);

  const rows: PlotRow[] = [];
  const [first, last] = data.measuredRange ?? [-Infinity, Infinity];
  for (const axis of axes) {
    for (const s of series) {
      const values = s.trace[axis];
      const sd = s.kind === 'curve' ? data.curveSd?.[axis] : undefined;
      for (const i of decimationIndices(s.trace.t.length)) {
        const tFrame = s.trace.t[i];
        const driftNm = values[i];
        // NaN marks a missing sample (e.g. a failed window); leave a gap rather than fail.
        if (!(Number.isFinite(tFrame) && Number.isFinite(driftNm))) continue;
        const row: PlotRow = { axis, series: s.label, kind: s.kind, tFrame, driftNm };
        if (sd && Number.isFinite(sd[i])) {
          row.lo = driftNm - BAND_SD * sd[i];
          row.hi = driftNm + BAND_SD * sd[i];
        }
        if (s.kind === 'curve' && (tFrame < first || tFrame > last)) {
          row.kind = 'extrapolated';
          row.part = tFrame < first ? 'before' : 'after';
        }
        rows.push(row);
      }
    }
  }
  if (rows.length === 0) {
    throw new InputError(`drift plot: no finite samples on axes ${axes.join(', ')} in series ${[...labels].map((l) => `'${l}'`).join(', ')}`);
  }

  const sourceCount = data.sources.length;
  const hasCurve = data.curve !== undefined;
  const domain = series.map((s) => s.label);
  let referenceIndex = 0;
  const range = series.map((s, i) => {
    if (s.kind === 'source') return SOURCE_COLOURS[i % SOURCE_COLOURS.length];
    if (s.kind === 'curve') return CURVE_COLOUR;
    return REFERENCE_COLOURS[referenceIndex++ % REFERENCE_COLOURS.length];
  });

  // Legend entries follow the colour domain (sources, curve, references), so the entry's
  // index tells its kind; this keeps user labels out of the expressions below.
  const isSourceEntry = `datum.index < ${sourceCount}`;
  const isReferenceEntry = `datum.index >= ${sourceCount + (hasCurve ? 1 : 0)}`;
  const colourOfEntry = "scale('color', datum.value)";

  const color = {
    field: 'series',
    type: 'nominal' as const,
    scale: { domain, range },
    legend: {
      title: null,
      orient: 'top' as const,
      direction: 'horizontal' as const,
      columns: Math.min(series.length, 4),
      symbolStrokeWidth: 2.5,
      labelLimit: 360,
      columnPadding: 24,
      encode: {
        symbols: {
          update: {
            shape: { signal: `${isSourceEntry} ? 'circle' : 'stroke'` },
            fill: { signal: `${isSourceEntry} ? ${colourOfEntry} : 'transparent'` },
            stroke: { signal: colourOfEntry },
            strokeDash: { signal: `${isReferenceEntry} ? ${JSON.stringify(REFERENCE_DASH_PX)} : [1, 0]` },
            size: { signal: `${isSourceEntry} ? 70 : 260` },
            opacity: { value: 1 },
          },
        },
      },
    },
  };
  const x = {
    field: 'tFrame',
    type: 'quantitative' as const,
    title: 'Time (frame)',
    scale: { zero: false, nice: true },
    // Frames are whole numbers: no "2.5" ticks on short series.
    axis: { tickMinStep: 1 },
  };
  const y = {
    field: 'driftNm',
    type: 'quantitative' as const,
    title: DRIFT_AXIS_TITLE,
    scale: { zero: false, nice: true },
    // The same label extent in every panel lines up the drift axis titles.
    axis: { minExtent: estimateTickLabelExtentPx(rows) },
  };
  const hasBand = rows.some((r) => r.lo !== undefined);
  const hasExtrapolated = rows.some((r) => r.kind === 'extrapolated');
  const bandLayers = hasBand
    ? [
        {
          transform: [{ filter: "(datum.kind === 'curve' || datum.kind === 'extrapolated') && isValid(datum.lo)" }],
          mark: { type: 'area' as const, color: BAND_COLOUR, opacity: BAND_OPACITY, clip: false, aria: false },
          encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, detail: { field: 'part', type: 'nominal' as const } },
        },
      ]
    : [];
  const extrapolatedLayers = hasExtrapolated
    ? [
        {
          transform: [{ filter: "datum.kind === 'extrapolated'" }],
          mark: { type: 'line' as const, strokeWidth: 1.8, strokeDash: EXTRAPOLATED_DASH_PX, opacity: EXTRAPOLATED_OPACITY, clip: false, aria: false },
          encoding: { x, y, color, detail: { field: 'part', type: 'nominal' as const } },
        },
      ]
    : [];

  const top = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(data.title !== undefined
      ? {
          title: {
            text: data.title,
            anchor: 'start' as const,
            ...(data.subtitle ? { subtitle: wrapText(data.subtitle, SUBTITLE_LINE_CHARS), subtitleFontSize: 12 } : {}),
          },
        }
      : {}),
  };
  const facetSpec = {
    data: { values: rows },
    facet: {
      row: {
        field: 'axis',
        type: 'nominal',
        sort: axes,
        title: null,
        header: {
          labelOrient: 'top',
          labelAnchor: 'start',
          labelAngle: 0,
          labelFontSize: 15,
          labelFontWeight: 'bold',
          labelPadding: 2,
        },
      },
    },
    spacing: 18,
    // Each axis gets its own drift range (z often differs from x/y by an order of magnitude);
    // time is shared, so it is labelled once under the bottom panel.
    resolve: { scale: { y: 'independent' } },
    spec: {
      width,
      height,
      // Per-sample accessibility labels would add ~100 bytes per point for no reader's benefit.
      layer: [
        ...bandLayers,
        ...extrapolatedLayers,
        {
          transform: [{ filter: "datum.kind === 'reference'" }],
          mark: { type: 'line', strokeWidth: 1.6, strokeDash: REFERENCE_DASH_PX, clip: false, aria: false },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'curve'" }],
          mark: { type: 'line', strokeWidth: 1.8, clip: false, aria: false },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "datum.kind === 'source'" }],
          mark: { type: 'point', filled: true, size: 36, opacity: 0.9, clip: false, aria: false },
          encoding: { x, y, color },
        },
      ],
    },
  };
  const trajectory = data.trajectory && data.curve ? trajectorySpec(data.curve, data.measuredRange) : undefined;
  const body = trajectory ? { vconcat: [facetSpec, trajectory], spacing: 28 } : facetSpec;
  const spec = {
    ...top,
    ...body,
    background: 'white',
    padding: 12,
    config: {
      font: PLOT_FONT_FAMILY,
      view: { stroke: '#bbbbbb' },
      title: { font: PLOT_FONT_FAMILY, fontSize: 17, fontWeight: 'bold', offset: 10 },
      header: { labelFont: PLOT_FONT_FAMILY, titleFont: PLOT_FONT_FAMILY },
      axis: {
        labelFont: PLOT_FONT_FAMILY,
        titleFont: PLOT_FONT_FAMILY,
        labelFontSize: TICK_LABEL_FONT_PX,
        titleFontSize: 13,
        titleFontWeight: 'normal',
        gridColor: '#e6e6e6',
        domainColor: '#555555',
        tickColor: '#555555',
        labelColor: '#222222',
        titleColor: '#222222',
      },
      legend: {
        labelFont: PLOT_FONT_FAMILY,
        titleFont: PLOT_FONT_FAMILY,
        labelFontSize: 13,
        labelColor: '#222222',
      },
      text: { font: PLOT_FONT_FAMILY },
    },
  } as TopLevelSpec;
  return spec;
}

/**
 * The lateral trajectory of the curve: y against x (equal nm per pixel on both axes), time as
 * the path order, the first measured point marked 'start' and the last 'end'.
 */
function trajectorySpec(curve: DriftPlotSeries, measuredRange: readonly [number, number] | undefined) {
  const [first, last] = measuredRange ?? [-Infinity, Infinity];
  const rows: { tFrame: number; xNm: number; yNm: number }[] = [];
  for (const i of decimationIndices(curve.trace.t.length)) {
    const tFrame = curve.trace.t[i];
    if (tFrame < first || tFrame > last) continue;
    const xNm = curve.trace.x[i];
    const yNm = curve.trace.y[i];
    if (Number.isFinite(xNm) && Number.isFinite(yNm)) rows.push({ tFrame, xNm, yNm });
  }
  if (rows.length === 0) throw new InputError('drift plot: the curve has no finite x–y samples for the trajectory panel');
  let xl = Infinity;
  let xh = -Infinity;
  let yl = Infinity;
  let yh = -Infinity;
  for (const r of rows) {
    xl = Math.min(xl, r.xNm);
    xh = Math.max(xh, r.xNm);
    yl = Math.min(yl, r.yNm);
    yh = Math.max(yh, r.yNm);
  }
  // Equal scales: the same span on both axes, centred on the data.
  const half = Math.max(xh - xl, yh - yl, 1) * 0.55;
  const cx = (xl + xh) / 2;
  const cy = (yl + yh) / 2;
  const ends = [
    { ...rows[0], label: 'start' },
    { ...rows[rows.length - 1], label: 'end' },
  ];
  const x = {
    field: 'xNm',
    type: 'quantitative' as const,
    title: 'x correction added (nm)',
    scale: { domain: [cx - half, cx + half], nice: false, zero: false },
  };
  const y = {
    field: 'yNm',
    type: 'quantitative' as const,
    title: 'y correction added (nm)',
    scale: { domain: [cy - half, cy + half], nice: false, zero: false },
  };
  return {
    title: { text: 'x–y trajectory', anchor: 'start' as const, fontSize: 15 },
    width: TRAJECTORY_SIZE_PX,
    height: TRAJECTORY_SIZE_PX,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line' as const, strokeWidth: 1.6, color: CURVE_COLOUR, clip: true, aria: false },
        encoding: { x, y, order: { field: 'tFrame', type: 'quantitative' as const } },
      },
      {
        data: { values: ends },
        mark: { type: 'point' as const, filled: true, size: 60, color: '#D55E00', aria: false },
        encoding: { x, y },
      },
      {
        data: { values: ends },
        mark: { type: 'text' as const, align: 'left' as const, dx: 7, dy: -7, fontSize: 12, aria: false },
        encoding: { x, y, text: { field: 'label', type: 'nominal' as const } },
      },
    ],
  };
}
