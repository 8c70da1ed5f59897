/**
 * AIM — adaptive intersection maximization (Ma et al., Sci. Adv. 10:eadm7765, 2024,
 * doi:10.1126/sciadv.adm7765): the acquisition is cut into segments of a fixed number of frames;
 * each segment is registered against a reference by maximizing the number of its localizations
 * that fall within the intersect distance of a reference localization, searched only within a
 * radius of the previous segment's drift (adaptive), so the cost grows with the data, not with
 * the field.
 *
 * The intersection count with a hard distance is replaced by its smooth form: the sum, over the
 * segment's localizations, of a Gaussian-blurred reference density (σ = half the intersect
 * distance, DensityGrid) — a correlation that has a peak to locate to a fraction of a bin.
 *
 * Round 1 follows the segments in order against a growing reference (the first segment, then
 * every segment already registered, corrected): more reference than the original's first segment
 * alone, which fails on sparse data. The search is a full scan of whole-bin shifts within
 * `maxDriftNm` of the previous drift; a peak on the border of the scan (drift faster than the
 * radius, a stage jump) is searched again in a wider radius and followed when clear there.
 * Round 2 registers every segment again against all OTHER localizations corrected by round 1
 * (leave-one-out: unlike Picasso's and webSMLM's second round, the reference does not contain the
 * segment, so the segment is not pulled toward its round-1 position), by climbing to the peak near
 * the current drift and a least-squares quadratic through its 3×3 top; it is repeated until the
 * samples change by less than ROUND2_TOLERANCE_NM. In 3D the lateral drift comes first, then z by
 * its own 1D search on a 3D reference, as in the paper.
 *
 * Drift sign: see ../types.ts (the correction to add).
 */
import { InsufficientDataError, UsageError } from '../errors.js';
import { minMax } from '../histogram/binGrid.js';
import type { DriftTrace, NumericArray, ProgressReporter } from '../types.js';
import { DensityGrid } from './densityGrid.js';
import { linearPerFrame, quadraticPeak } from './refineDrift.js';
import { param } from '../messageParams.js';

export interface AimOptions {
  /**
   * Frames per segment; 'auto': long enough for AIM_AUTO_LOCS_PER_SEGMENT localizations per
   * segment on average (a reliable peak), never shorter than AIM_DEFAULTS.segmentFrames. @default 'auto'
   */
  segmentFrames?: number | 'auto';
  /** Intersect distance (nm): the reference kernel is a Gaussian of σ = half of it. @default 20 */
  intersectDistanceNm?: number;
  /** Search radius around the previous segment's drift (nm): the most drift expected between segments. @default 60 */
  maxDriftNm?: number;
  /** Axial search radius (nm). @default 2 × maxDriftNm */
  maxDriftZNm?: number;
  /** Ignore z even when given. @default false */
  flattenZ?: boolean;
  progress?: ProgressReporter;
  yieldNow?: () => Promise<void> | undefined;
}

/** Defaults as in the paper and Picasso (there in camera pixels: 20/130 and 60/130 px at 130 nm). */
export const AIM_DEFAULTS = { segmentFrames: 100, intersectDistanceNm: 20, maxDriftNm: 60 } as const;
/**
 * Localizations per segment the automatic segment length aims at. With fewer a segment finds
 * false peaks (12 k localizations over 30 k frames: 100-frame segments of ~40 gave 24–330 nm
 * RMSE); with more, fast drift is sampled too coarsely (6 k over 16 k frames: 120, 150, 200 per
 * segment gave 1.8, 2.2, 4.3 nm). 150: ≤ 2.8 nm on every sparse simulation tried (5–30 k
 * localizations, seeds 3–10).
 */
export const AIM_AUTO_LOCS_PER_SEGMENT = 150;

export interface AimSegment {
  startFrame: number;
  /** Exclusive. */
  endFrame: number;
  /** Rows [from, to) of the frame-sorted table. */
  from: number;
  to: number;
  /** Mean frame of its localizations: the sample time. */
  t: number;
}

export interface AimResult {
  /** Drift samples (correction to add, nm) at the segments' mean frames, with `sd`. */
  drift: DriftTrace;
  /** Round 1's samples (the first registration, before the leave-one-out round). */
  round1: DriftTrace;
  segments: AimSegment[];
  /** Segments without a clear maximum (left out of `drift`, bridged by the interpolation). */
  unclearSegments: number[];
  /** Frames per segment (chosen from the density when 'auto'). */
  segmentFrames: number;
  /** Segments round 1 put far from their neighbours that round 2 moved to where the neighbours put them. */
  movedSegments: number[];
  /** Segments whose round-1 peak lay on the border of the search radius and were searched wider. */
  widenedSegments: number[];
  /** Round-2 passes made and the RMS change of the last (nm). */
  passes: number;
  lastChangeNm: number;
  binNm: number;
  /** One line: what was done. */
  summary: string;
}

/** The reference kernel is cut at this many σ (a 5×5 footprint: adding and removing a segment is most of round 2's cost). */
const KERNEL_CUTOFF_SD = 2;
/**
 * Round 1 only has to land within a bin of the peak (round 2 refines): it scans and adds to its
 * reference at most this many localizations per segment (evenly spread), so its cost does not
 * grow with the density.
 */
export const ROUND1_MAX_LOCS = 1000;
/** The z reference's lateral bin relative to σ (x, y are corrected when z is searched: coarse is enough). */
const Z_GRID_LATERAL_BIN_PER_SIGMA = 4;
/** Reference bin relative to the kernel σ. */
const BIN_PER_SIGMA = 1;
/** Round 1's bin relative to the kernel σ: the intersect distance. */
const ROUND1_BIN_PER_SIGMA = 2;
/** A segment's peak is unclear when a separate peak (≥ PEAK_EXCLUSION_SIGMA away) reaches this fraction of it above the median. */
export const UNCLEAR_PEAK_RATIO = 0.8;
const PEAK_EXCLUSION_SIGMA = 3;
/**
 * A segment whose peak score per localization is below this fraction of the median segment's
 * has no clear maximum (on simulations: segments of pure noise 0.05–0.14, real segments ≥ 0.67,
 * dense, sparse, fast drift and jumps alike); round 1 judges after this many segments.
 */
export const MATCH_FRACTION = 0.4;
const MATCH_MIN_SEGMENTS = 5;
/** With fewer segments than this, a failure is blamed on their number, not on their size. */
const FEW_SEGMENTS = 5;
/** A round-1 outlier moves to where its neighbours put it when the score there is this many times higher. */
const OUTLIER_GAIN = 1.5;
/** A border peak is searched again in this multiple of the radius. */
export const WIDEN_FACTOR = 4;
/** Round 2 stops when the samples change by less than this (nm RMS), or after MAX_ROUND2_PASSES. */
const ROUND2_TOLERANCE_NM = 0.1;
/** … or by less than this fraction of the samples' median standard error (sparse data). */
const ROUND2_TOLERANCE_SD = 0.2;
const MAX_ROUND2_PASSES = 4;
/** Climbing steps (bins) per segment in round 2. */
const MAX_CLIMB = 6;
/** Reference grids are kept below this many cells (4 bytes each); a 3D z reference coarsens its lateral bin to fit. */
const MAX_GRID_CELLS = 120e6;
/** Room around the raw extent (fraction of the field) for corrected positions. */
const GRID_MARGIN_FRACTION = 0.05;
/** More than this fraction of unclear or widened segments gets a warning. */
const WARN_FRACTION = 0.05;

interface Cols {
  x: NumericArray;
  y: NumericArray;
  z?: NumericArray;
  t: NumericArray;
}

/** Segments of `frames` frames from the first frame; empty ones are left out. */
export function makeFrameSegments(t: NumericArray, frames: number): AimSegment[] {
  const n = t.length;
  const f0 = Math.floor(t[0]);
  const out: AimSegment[] = [];
  let from = 0;
  while (from < n) {
    const k = Math.floor((Math.floor(t[from]) - f0) / frames);
    const start = f0 + k * frames;
    const end = start + frames;
    let to = from;
    let sum = 0;
    while (to < n && t[to] < end) sum += t[to++];
    out.push({ startFrame: start, endFrame: end, from, to, t: sum / (to - from) });
    from = to;
  }
  return out;
}

/** The automatic segment length (frames) for n localizations over nFrames frames. */
export function autoSegmentFrames(n: number, nFrames: number): number {
  return Math.max(AIM_DEFAULTS.segmentFrames, Math.ceil((AIM_AUTO_LOCS_PER_SEGMENT * nFrames) / Math.max(n, 1)));
}

function validate(o: { segmentFrames: number; intersectDistanceNm: number; maxDriftNm: number }): void {
  if (!(Number.isInteger(o.segmentFrames) && o.segmentFrames >= 1))
    throw new UsageError(`${param('segmentFrames')} must be a whole number of frames ≥ 1, got ${o.segmentFrames}`, { param: 'segmentFrames' });
  if (!(o.intersectDistanceNm > 0) || !Number.isFinite(o.intersectDistanceNm)) {
    throw new UsageError(`${param('intersectDistanceNm')} must be a positive number of nm, got ${o.intersectDistanceNm}`, { param: 'intersectDistanceNm' });
  }
  if (!(o.maxDriftNm >= o.intersectDistanceNm / 2) || !Number.isFinite(o.maxDriftNm)) {
    throw new UsageError(
      `${param('maxDriftNm')} (${o.maxDriftNm} nm) must be at least half ${param('intersectDistanceNm')} (${o.intersectDistanceNm} nm): it is the search radius around the previous segment's drift`,
      { param: 'maxDriftNm' },
    );
  }
}

/**
 * Integer-shift scan: score[(b+R)·(2R+1) + (a+R)] = Σ_i grid[cell_i + a + b·nx] over the cells of
 * the segment's localizations (lateral). Cells whose neighbourhood leaves the grid are skipped.
 */
function scanLateral(grid: DensityGrid, cells: Int32Array, count: number, radius: number, score: Float64Array): void {
  const side = 2 * radius + 1;
  score.fill(0, 0, side * side);
  const nx = grid.nx;
  const ny = grid.ny;
  const d = grid.data;
  const nxy = nx * ny;
  for (let q = 0; q < count; q++) {
    const c = cells[q];
    if (c < 0) continue;
    const ix = c % nx;
    const iy = Math.floor((c % nxy) / nx);
    if (ix < radius || iy < radius || ix + radius >= nx || iy + radius >= ny) continue;
    for (let b = -radius; b <= radius; b++) {
      const base = c + b * nx;
      const o = (b + radius) * side + radius;
      for (let a = -radius; a <= radius; a++) score[o + a] += d[base + a];
    }
  }
}

/** 1D axial scan: score[c + R] = Σ_i grid[cell_i + c·nx·ny]. */
function scanAxial(grid: DensityGrid, cells: Int32Array, count: number, radius: number, score: Float64Array): void {
  score.fill(0, 0, 2 * radius + 1);
  const nxy = grid.nx * grid.ny;
  const d = grid.data;
  for (let q = 0; q < count; q++) {
    const c = cells[q];
    if (c < 0) continue;
    const iz = Math.floor(c / nxy);
    if (iz < radius || iz + radius >= grid.nz) continue;
    for (let k = -radius; k <= radius; k++) score[k + radius] += d[c + k * nxy];
  }
}

interface ScanPeak {
  /** Offsets (bins) of the best whole-bin shift. */
  a: number;
  b: number;
  onBorder: boolean;
  clear: boolean;
  /** The best score. */
  top: number;
}

/** The best shift of a scan, whether it lies on the border, and whether it is clear of other peaks. */
function judgeScan(score: Float64Array, radius: number, dims: 1 | 2, exclusionBins: number): ScanPeak {
  const side = 2 * radius + 1;
  const size = dims === 2 ? side * side : side;
  let best = 0;
  for (let k = 1; k < size; k++) if (score[k] > score[best]) best = k;
  const a = (best % side) - radius;
  const b = dims === 2 ? Math.floor(best / side) - radius : 0;
  const sorted = Float64Array.from(score.subarray(0, size)).sort();
  const median = sorted[size >> 1];
  let second = -Infinity;
  for (let k = 0; k < size; k++) {
    const da = (k % side) - radius - a;
    const db = dims === 2 ? Math.floor(k / side) - radius - b : 0;
    if (Math.hypot(da, db) > exclusionBins) second = Math.max(second, score[k]);
  }
  const top = score[best] - median;
  const clear = top > 0 && (second === -Infinity || second - median < UNCLEAR_PEAK_RATIO * top);
  const onBorder = Math.abs(a) === radius || Math.abs(b) === radius;
  return { a, b, onBorder, clear, top: score[best] };
}

/**
 * AIM drift of frame-sorted localizations (x, y[, z] nm, t frames ascending).
 */
export async function estimateDriftAim(cols: Cols, options: AimOptions = {}): Promise<AimResult> {
  const { x, y, t } = cols;
  const n = t.length;
  if (n === 0) throw new InsufficientDataError('the table has no localizations');
  const autoSegment = (options.segmentFrames ?? 'auto') === 'auto';
  const o = {
    segmentFrames: autoSegment ? autoSegmentFrames(n, Math.floor(t[n - 1]) - Math.floor(t[0]) + 1) : (options.segmentFrames as number),
    intersectDistanceNm: options.intersectDistanceNm ?? AIM_DEFAULTS.intersectDistanceNm,
    maxDriftNm: options.maxDriftNm ?? AIM_DEFAULTS.maxDriftNm,
  };
  validate(o);
  const z = options.flattenZ ? undefined : cols.z;
  for (let i = 1; i < n; i++) if (t[i] < t[i - 1]) throw new UsageError('estimateDriftAim needs the rows sorted by frame');
  const segments = makeFrameSegments(t, o.segmentFrames);
  if (segments.length < 2) {
    throw new InsufficientDataError(
      autoSegment
        ? `${n} localizations over frames ${t[0]}–${t[n - 1]} make only one AIM segment of ${o.segmentFrames} frames (${AIM_AUTO_LOCS_PER_SEGMENT} localizations each): too few localizations for AIM; use RCC, or a shorter ${param('segmentFrames')} (at most ${Math.max(1, Math.floor((t[n - 1] - t[0]) / 2))}) at the risk of false peaks`
        : `frames ${t[0]}–${t[n - 1]} make only one AIM segment of ${o.segmentFrames} frames; use a shorter ${param('segmentFrames')} (at most ${Math.max(1, Math.floor((t[n - 1] - t[0]) / 2))})`,
    );
  }
  const progress = options.progress;
  const sigma = o.intersectDistanceNm / 2;
  const bin = BIN_PER_SIGMA * sigma;
  const radius = Math.max(1, Math.ceil(o.maxDriftNm / bin));
  const wideRadius = WIDEN_FACTOR * radius;
  const f0 = Math.floor(t[0]);
  const nFrames = Math.floor(t[n - 1]) - f0 + 1;
  const frameOf = new Int32Array(n);
  for (let i = 0; i < n; i++) frameOf[i] = Math.floor(t[i]) - f0;

  // Corrected positions sit where the first segment saw them, within the raw extent; a margin
  // keeps the scan inside the grid (localizations beyond it only leave the reference).
  const [xl, xh] = minMax(x, 'x');
  const [yl, yh] = minMax(y, 'y');
  const margin = Math.max(GRID_MARGIN_FRACTION * Math.max(xh - xl, yh - yl), (wideRadius + 4) * bin);
  const extent: [number, number, number, number, number, number] = [xl - margin, xh + margin, yl - margin, yh + margin, 0, 0];
  const grid = new DensityGrid({ binNm: bin, sigmaNm: sigma, extent, maxCells: MAX_GRID_CELLS, cutoffSd: KERNEL_CUTOFF_SD });
  // Round 1 works on bins of the intersect distance (as the original counts intersections) and
  // a kernel as wide (a smoother score: a segment against a young reference still has a clear
  // peak): a quarter of the cells and of the shifts to scan; round 2 refines on the fine grid.
  const bin1 = ROUND1_BIN_PER_SIGMA * sigma;
  const grid1 = new DensityGrid({ binNm: bin1, sigmaNm: bin1, extent, maxCells: MAX_GRID_CELLS, cutoffSd: KERNEL_CUTOFF_SD });
  // One bin beyond the radius: a peak on the border is then drift beyond it, not rounding.
  const radius1 = Math.max(1, Math.ceil(o.maxDriftNm / bin1)) + 1;

  const dx = new Float64Array(segments.length);
  const dy = new Float64Array(segments.length);
  const ok = new Uint8Array(segments.length);
  const widened: number[] = [];
  const cells = new Int32Array(n);
  const score = new Float64Array((2 * radius1 + 1) ** 2);
  const exclusion1 = PEAK_EXCLUSION_SIGMA;

  // Round 1: in order, against a growing reference.
  progress?.start?.('AIM round 1', segments.length);
  const first = segments[0];
  const strideOf = (seg: AimSegment) => Math.max(1, Math.floor((seg.to - seg.from) / ROUND1_MAX_LOCS));
  let refCount = 0;
  for (let i = first.from; i < first.to; i += strideOf(first), refCount++) grid1.splat(grid1.cellOf(x[i], y[i], 0), +1);
  ok[0] = 1;
  // Per-localization peak score relative to the reference's size, of the segments taken so far (sorted).
  const matches: number[] = [];
  let px = 0;
  let py = 0;
  for (let k = 1; k < segments.length; k++) {
    const s = segments[k];
    const stride = strideOf(s);
    // Offset (bins) of the scan's centre from the previous drift: a peak on the border of the
    // scan moves the scan there (up to WIDEN_FACTOR times the radius in all), following the
    // score uphill to a jump instead of taking the best of one wide square, where a sparse
    // segment finds a false peak far away.
    let ox = 0;
    let oy = 0;
    let m = 0;
    let peak: ScanPeak | null = null;
    for (let step = 0; step < WIDEN_FACTOR && (!peak || peak.onBorder); step++) {
      if (peak) {
        ox += peak.a;
        oy += peak.b;
      }
      m = 0;
      for (let i = s.from; i < s.to; i += stride) cells[m++] = grid1.cellOf(x[i] + px + ox * bin1, y[i] + py + oy * bin1, 0);
      scanLateral(grid1, cells, m, radius1, score);
      peak = judgeScan(score, radius1, 2, exclusion1);
    }
    if (ox !== 0 || oy !== 0 || peak!.onBorder) widened.push(k);
    // A segment whose localizations match the reference far worse than the others' did has no
    // real peak (noise, a focus loss): its best shift is chance.
    const match = peak!.top / (m * refCount);
    const poorMatch = matches.length >= MATCH_MIN_SEGMENTS && match < MATCH_FRACTION * matches[matches.length >> 1];
    if (peak!.clear && !peak!.onBorder && !poorMatch) {
      matches.splice(sortedIndex(matches, match), 0, match);
      // Sub-bin: quadratic through the 3×3 of whole-bin scores around the best.
      const r = radius1;
      const side = 2 * r + 1;
      const v = new Float64Array(9);
      for (let b = -1; b <= 1; b++) for (let a = -1; a <= 1; a++) v[(b + 1) * 3 + a + 1] = score[(peak!.b + b + r) * side + peak!.a + a + r];
      const q = quadraticPeak(v);
      px += (ox + peak!.a + (q ? q.u : 0)) * bin1;
      py += (oy + peak!.b + (q ? q.v : 0)) * bin1;
      ok[k] = 1;
      for (let i = s.from; i < s.to; i += stride, refCount++) grid1.splat(grid1.cellOf(x[i] + px, y[i] + py, 0), +1);
    }
    dx[k] = px;
    dy[k] = py;
    if (k % 64 === 63) {
      progress?.update?.(k + 1);
      await options.yieldNow?.();
    }
  }
  progress?.stop?.();
  const round1 = traceOf(segments, ok, dx, dy, null);

  // Round 2: leave-one-out against everything else, corrected by the current drift.
  const perFrame = [new Float64Array(nFrames), new Float64Array(nFrames)];
  const cx = new Float64Array(n);
  const cy = new Float64Array(n);
  const fitOk = new Uint8Array(segments.length);
  const sdx = new Float64Array(segments.length);
  const sdy = new Float64Array(segments.length);
  const acc = new Float64Array(9);
  const grad = new Float64Array(5);
  let lastChange = Infinity;
  let tolerance = ROUND2_TOLERANCE_NM;
  let passes = 0;
  let sample = { x: new Float64Array(segments.length), y: new Float64Array(segments.length) };
  let use = ok;
  const matchR2 = new Float64Array(segments.length);
  const outliers = outlierSegments(segments, ok, dx, dy, o.maxDriftNm);
  const moved: number[] = [];
  const cells2 = new Int32Array(Math.max(...segments.map((sg) => sg.to - sg.from)));
  const score2 = new Float64Array((2 * radius + 1) ** 2);
  for (let pass = 0; pass < MAX_ROUND2_PASSES; pass++) {
    const keep = segmentsWhere(use);
    if (keep.length < 2) break;
    linearPerFrame(
      Float64Array.from(keep, (k) => segments[k].t),
      Float64Array.from(keep, (k) => (pass === 0 ? dx[k] : sample.x[k])),
      [],
      f0,
      perFrame[0],
    );
    linearPerFrame(
      Float64Array.from(keep, (k) => segments[k].t),
      Float64Array.from(keep, (k) => (pass === 0 ? dy[k] : sample.y[k])),
      [],
      f0,
      perFrame[1],
    );
    for (let i = 0; i < n; i++) {
      cx[i] = x[i] + perFrame[0][frameOf[i]];
      cy[i] = y[i] + perFrame[1][frameOf[i]];
      cells[i] = grid.cellOf(cx[i], cy[i], 0);
    }
    grid.build(cells);
    progress?.start?.(`AIM round 2${pass > 0 ? ` (pass ${pass + 1})` : ''}`, segments.length);
    const next = { x: new Float64Array(segments.length), y: new Float64Array(segments.length) };
    for (let k = 0; k < segments.length; k++) {
      const s = segments[k];
      const m = s.to - s.from;
      let mx = 0;
      let my = 0;
      for (let i = s.from; i < s.to; i++) {
        mx += perFrame[0][frameOf[i]];
        my += perFrame[1][frameOf[i]];
      }
      for (let i = s.from; i < s.to; i++) grid.splat(cells[i], -1);
      let ax = 0;
      let ay = 0;
      let peak = null;
      if (pass === 0 && outliers.has(k)) {
        // Round 1 put this segment far from its neighbours: a false peak against a young
        // reference, or a jump. The leave-one-out reference decides: scan around where the
        // neighbours put it and move there when that scores clearly higher than here.
        const [ex, ey] = outliers.get(k)!;
        const ix = Math.round(ex / bin);
        const iy = Math.round(ey / bin);
        for (let i = s.from; i < s.to; i++) cells2[i - s.from] = grid.cellOf(cx[i] + ix * bin, cy[i] + iy * bin, 0);
        scanLateral(grid, cells2, m, radius, score2);
        const there = judgeScan(score2, radius, 2, PEAK_EXCLUSION_SIGMA * (sigma / bin));
        const side = 2 * radius + 1;
        const best = score2[(there.b + radius) * side + there.a + radius];
        scanLateral(grid, cells.subarray(s.from, s.to), m, 1, score2);
        let here = -Infinity;
        for (let q = 0; q < 9; q++) here = Math.max(here, score2[q]);
        if (there.clear && best > OUTLIER_GAIN * here) {
          ax = ix + there.a;
          ay = iy + there.b;
          moved.push(k);
        }
      }
      for (let step = 0; step <= MAX_CLIMB; step++) {
        acc.fill(0);
        grad.fill(0);
        for (let i = s.from; i < s.to; i++) grid.addLateral3x3(cx[i] + ax * bin, cy[i] + ay * bin, 0, acc, grad);
        let best = 4;
        for (let q = 0; q < 9; q++) if (acc[q] > acc[best]) best = q;
        if (best === 4) {
          peak = quadraticPeak(acc);
          break;
        }
        if (step === MAX_CLIMB) break;
        ax += (best % 3) - 1;
        ay += Math.floor(best / 3) - 1;
      }
      for (let i = s.from; i < s.to; i++) grid.splat(cells[i], +1);
      fitOk[k] = peak && acc[4] > 0 ? 1 : 0;
      matchR2[k] = acc[4] / m;
      next.x[k] = mx / m + (peak ? (ax + peak.u) * bin : 0);
      next.y[k] = my / m + (peak ? (ay + peak.v) * bin : 0);
      if (peak) {
        // Sandwich standard error H⁻¹ M H⁻¹ (M: scatter of the per-localization gradients).
        const mxx = grad[2] - (grad[0] * grad[0]) / m;
        const mxy = grad[3] - (grad[0] * grad[1]) / m;
        const myy = grad[4] - (grad[1] * grad[1]) / m;
        const det = peak.hxx * peak.hyy - peak.hxy * peak.hxy;
        const ixx = peak.hyy / det;
        const ixy = -peak.hxy / det;
        const iyy = peak.hxx / det;
        sdx[k] = Math.sqrt(Math.max(ixx * (mxx * ixx + mxy * ixy) + ixy * (mxy * ixx + myy * ixy), 0)) * bin;
        sdy[k] = Math.sqrt(Math.max(ixy * (mxx * ixy + mxy * iyy) + iyy * (mxy * ixy + myy * iyy), 0)) * bin;
        // A peak as wide as the kernel is no peak.
        if (!(sdx[k] < sigma && sdy[k] < sigma)) fitOk[k] = 0;
      }
      if (k % 64 === 63) {
        progress?.update?.(k + 1);
        await options.yieldNow?.();
      }
    }
    progress?.stop?.();
    // As in round 1: a segment that matches the (same, full) reference far worse than the others is unclear.
    const typical = median(segmentsWhere(fitOk).map((k) => matchR2[k]));
    for (let k = 0; k < segments.length; k++) if (fitOk[k] && matchR2[k] < MATCH_FRACTION * typical) fitOk[k] = 0;
    const both = segmentsWhere(fitOk);
    if (pass > 0) lastChange = rmsChange(sample, next, both);
    sample = next;
    use = fitOk;
    passes++;
    // Changes well below the samples' own standard error are noise, not convergence left to do.
    const sds = both.map((k) => Math.hypot(sdx[k], sdy[k]) / Math.SQRT2).filter(Number.isFinite);
    tolerance = Math.max(ROUND2_TOLERANCE_NM, ROUND2_TOLERANCE_SD * (sds.length ? median(sds) : 0));
    if (lastChange < tolerance) break;
  }
  const keep = segmentsWhere(use);
  if (keep.length < 2) {
    throw new InsufficientDataError(
      `AIM found a clear maximum in only ${keep.length} of ${segments.length} segments of ${o.segmentFrames} frames (median ${median(segments.map((s) => s.to - s.from))} localizations): ` +
        (segments.length < FEW_SEGMENTS
          ? `too few segments to compare; use a shorter ${param('segmentFrames')}, or another method (RCC)`
          : `the segments hold too few localizations; use longer segments (${param('segmentFrames')}) or another method (RCC)`),
    );
  }

  // z: its own 1D search on a 3D reference, with the lateral drift applied.
  let dz: Float64Array | null = null;
  let sdz: Float64Array | null = null;
  if (z) {
    const zr = await aimAxial({ x, y, z, t }, segments, keep, perFrameOf(segments, keep, sample, f0, nFrames), frameOf, {
      sigma,
      maxDriftZNm: options.maxDriftZNm ?? 2 * o.maxDriftNm,
      progress,
      yieldNow: options.yieldNow,
    });
    dz = zr.dz;
    sdz = zr.sdz;
  }
  const ref = keep[0];
  const pick = (v: Float64Array) => Float64Array.from(keep, (k) => v[k] - v[ref]);
  const drift: DriftTrace = {
    t: Float64Array.from(keep, (k) => segments[k].t),
    x: pick(sample.x),
    y: pick(sample.y),
    z: dz ? pick(dz) : new Float64Array(keep.length),
    sd: {
      x: Float64Array.from(keep, (k) => sdx[k]),
      y: Float64Array.from(keep, (k) => sdy[k]),
      z: sdz ? Float64Array.from(keep, (k) => sdz[k]) : new Float64Array(keep.length),
    },
  };
  const keepSet = new Set(keep);
  const unclearSegments = segments.flatMap((_, k) => (keepSet.has(k) ? [] : [k]));
  // A walk in a segment that then had no clear maximum was chasing noise, not drift.
  const widenedKept = widened.filter((k) => keepSet.has(k));
  widened.length = 0;
  widened.push(...widenedKept);
  const warn = (msg: string) => progress?.warn?.(msg);
  const frames = (list: number[]) =>
    list
      .slice(0, 4)
      .map((k) => `${segments[k].startFrame}–${segments[k].endFrame - 1}`)
      .join(', ') + (list.length > 4 ? ', …' : '');
  if (widened.length > 0) {
    warn(
      `AIM: in ${widened.length} of ${segments.length} segments the drift since the previous segment reached the search radius ` +
        `(${param('maxDriftNm')} ${o.maxDriftNm} nm) and was searched up to ${WIDEN_FACTOR}× wider (frames ${frames(widened)}); ` +
        (widened.length > WARN_FRACTION * segments.length
          ? `the radius is smaller than the drift between segments: raise ${param('maxDriftNm')} or shorten ${param('segmentFrames')}`
          : 'a jump or fast drift'),
    );
  }
  if (unclearSegments.length > 0) {
    warn(
      `AIM: ${unclearSegments.length} of ${segments.length} segments had no clear maximum (frames ${frames(unclearSegments)}): ` +
        'their drift is bridged (interpolated from the segments around them), not taken from a doubtful peak' +
        (unclearSegments.length > WARN_FRACTION * segments.length
          ? `; the segments hold too few localizations (a median of ${median(segments.map((s) => s.to - s.from))}): use longer segments (${param('segmentFrames')}) or a larger ${param('intersectDistanceNm')}`
          : ''),
    );
  }
  if (lastChange >= tolerance && passes >= MAX_ROUND2_PASSES) {
    warn(`AIM's second round still changed by ${lastChange.toFixed(2)} nm RMS after ${passes} passes`);
  }
  const summary =
    `AIM: ${segments.length} segments of ${o.segmentFrames} frames${autoSegment ? ` (auto: ≥ ${AIM_AUTO_LOCS_PER_SEGMENT} localizations each on average)` : ''} (median ${median(segments.map((s) => s.to - s.from))} localizations), ` +
    `intersect distance ${o.intersectDistanceNm} nm, search radius ${o.maxDriftNm} nm; ${keep.length} segments with a clear maximum` +
    (widened.length ? `, ${widened.length} searched wider` : '') +
    (moved.length ? `, ${moved.length} moved to where their neighbours put them` : '') +
    `; second round (leave-one-out) ${passes} pass${passes === 1 ? '' : 'es'}${Number.isFinite(lastChange) ? `, last change ${lastChange.toFixed(2)} nm` : ''}` +
    (z ? '; z by its own 1D search' : '');
  return {
    drift,
    round1,
    segments,
    segmentFrames: o.segmentFrames,
    movedSegments: moved,
    unclearSegments,
    widenedSegments: widened,
    passes,
    lastChangeNm: lastChange,
    binNm: bin,
    summary,
  };
}

/**
 * Segments whose round-1 drift lies more than `limitNm` from what their neighbours predict
 * (linear between the nearest on both sides, extrapolated from the two nearest at the ends):
 * segment → the prediction's offset from its drift (nm).
 */
function outlierSegments(segments: AimSegment[], ok: Uint8Array, dx: Float64Array, dy: Float64Array, limitNm: number): Map<number, [number, number]> {
  const keep = segmentsWhere(ok);
  const out = new Map<number, [number, number]>();
  for (let q = 0; q < keep.length; q++) {
    const k = keep[q];
    let a: number;
    let b: number;
    if (q > 0 && q + 1 < keep.length) [a, b] = [keep[q - 1], keep[q + 1]];
    else if (q === 0 && keep.length > 2) [a, b] = [keep[1], keep[2]];
    else if (q > 1) [a, b] = [keep[q - 2], keep[q - 1]];
    else continue;
    const w = (segments[k].t - segments[a].t) / (segments[b].t - segments[a].t);
    const ex = dx[a] + w * (dx[b] - dx[a]) - dx[k];
    const ey = dy[a] + w * (dy[b] - dy[a]) - dy[k];
    if (Math.hypot(ex, ey) > limitNm) out.set(k, [ex, ey]);
  }
  return out;
}

/** Where v goes in the ascending list. */
function sortedIndex(list: number[], v: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function segmentsWhere(flags: Uint8Array): number[] {
  const out: number[] = [];
  for (let k = 0; k < flags.length; k++) if (flags[k]) out.push(k);
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function rmsChange(a: { x: Float64Array; y: Float64Array }, b: { x: Float64Array; y: Float64Array }, keep: number[]): number {
  if (keep.length === 0) return Infinity;
  let mx = 0;
  let my = 0;
  for (const k of keep) {
    mx += b.x[k] - a.x[k];
    my += b.y[k] - a.y[k];
  }
  mx /= keep.length;
  my /= keep.length;
  let s = 0;
  for (const k of keep) s += (b.x[k] - a.x[k] - mx) ** 2 + (b.y[k] - a.y[k] - my) ** 2;
  return Math.sqrt(s / keep.length);
}

function traceOf(segments: AimSegment[], ok: Uint8Array, x: Float64Array, y: Float64Array, z: Float64Array | null): DriftTrace {
  const keep = segmentsWhere(ok);
  const ref = keep[0] ?? 0;
  return {
    t: Float64Array.from(keep, (k) => segments[k].t),
    x: Float64Array.from(keep, (k) => x[k] - x[ref]),
    y: Float64Array.from(keep, (k) => y[k] - y[ref]),
    z: z ? Float64Array.from(keep, (k) => z[k] - z[ref]) : new Float64Array(keep.length),
  };
}

function perFrameOf(segments: AimSegment[], keep: number[], s: { x: Float64Array; y: Float64Array }, f0: number, nFrames: number): Float64Array[] {
  const ts = Float64Array.from(keep, (k) => segments[k].t);
  const out = [new Float64Array(nFrames), new Float64Array(nFrames)];
  linearPerFrame(
    ts,
    Float64Array.from(keep, (k) => s.x[k]),
    [],
    f0,
    out[0],
  );
  linearPerFrame(
    ts,
    Float64Array.from(keep, (k) => s.y[k]),
    [],
    f0,
    out[1],
  );
  return out;
}

/**
 * z by its own 1D search (the paper's order): the lateral drift applied, each segment's z shift
 * scanned within ±maxDriftZNm of the previous one against a growing 3D reference, then refined
 * leave-one-out against all other localizations.
 */
async function aimAxial(
  cols: Required<Cols>,
  segments: AimSegment[],
  lateralOk: number[],
  lateral: Float64Array[],
  frameOf: Int32Array,
  o: { sigma: number; maxDriftZNm: number; progress?: ProgressReporter; yieldNow?: () => Promise<void> | undefined },
): Promise<{ dz: Float64Array; sdz: Float64Array }> {
  const { x, y, z } = cols;
  const n = x.length;
  const cx = new Float64Array(n);
  const cy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cx[i] = x[i] + lateral[0][frameOf[i]];
    cy[i] = y[i] + lateral[1][frameOf[i]];
  }
  const [xl, xh] = minMax(cx, 'x');
  const [yl, yh] = minMax(cy, 'y');
  const [zl, zh] = minMax(z, 'z');
  const binZ = o.sigma;
  const radius = Math.max(1, Math.ceil(o.maxDriftZNm / binZ));
  // Scans that reach past the grid skip those cells, so the margin only needs the usual radius.
  const marginZ = Math.max(0.1 * (zh - zl), (radius + 4) * binZ);
  // x, y are corrected already: a lateral bin of twice the intersect distance keeps most
  // structures apart; coarser still if the grid would not fit.
  let bin = Z_GRID_LATERAL_BIN_PER_SIGMA * o.sigma;
  const cellsAt = (b: number) => ((xh - xl) / b + 30) * ((yh - yl) / b + 30) * ((zh - zl + 2 * marginZ) / binZ + 30);
  while (cellsAt(bin) > MAX_GRID_CELLS / 2) bin *= 1.25;
  const grid = new DensityGrid({
    binNm: bin,
    sigmaNm: Math.max(o.sigma, bin / 2),
    binZNm: binZ,
    sigmaZNm: o.sigma,
    extent: [xl, xh, yl, yh, zl - marginZ, zh + marginZ],
    maxCells: MAX_GRID_CELLS,
    cutoffSd: KERNEL_CUTOFF_SD,
  });
  const m = segments.length;
  const dz = new Float64Array(m);
  const ok = new Uint8Array(m);
  const cells = new Int32Array(n);
  const score = new Float64Array(2 * WIDEN_FACTOR * radius + 1);
  const exclusion = PEAK_EXCLUSION_SIGMA;
  const order = lateralOk;
  o.progress?.start?.('AIM z, round 1', order.length);
  const s0 = segments[order[0]];
  for (let i = s0.from; i < s0.to; i++) grid.splat(grid.cellOf(cx[i], cy[i], z[i]), +1);
  ok[order[0]] = 1;
  let pz = 0;
  for (let q = 1; q < order.length; q++) {
    const k = order[q];
    const s = segments[k];
    for (let i = s.from; i < s.to; i++) cells[i - s.from] = grid.cellOf(cx[i], cy[i], z[i] + pz);
    let r = radius;
    scanAxial(grid, cells, s.to - s.from, r, score);
    let peak = judgeScan(score, r, 1, exclusion);
    if (peak.onBorder) {
      r = WIDEN_FACTOR * radius;
      scanAxial(grid, cells, s.to - s.from, r, score);
      peak = judgeScan(score, r, 1, exclusion);
    }
    if (peak.clear && !peak.onBorder) {
      const lo = score[peak.a + r - 1];
      const mid = score[peak.a + r];
      const hi = score[peak.a + r + 1];
      const h = lo + hi - 2 * mid;
      const u = h < 0 ? Math.max(-1, Math.min(1, (lo - hi) / (2 * h))) : 0;
      pz += (peak.a + u) * binZ;
      ok[k] = 1;
      for (let i = s.from; i < s.to; i++) grid.splat(grid.cellOf(cx[i], cy[i], z[i] + pz), +1);
    }
    dz[k] = pz;
    if (q % 64 === 63) await o.yieldNow?.();
  }
  o.progress?.stop?.();
  // Leave-one-out refinement.
  const f0 = Math.floor(cols.t[0]);
  const nFrames = frameOf[n - 1] + 1;
  const perFrame = new Float64Array(nFrames);
  const sdz = new Float64Array(m).fill(Infinity);
  let current = dz;
  for (let pass = 0; pass < 2; pass++) {
    const keep = order.filter((k) => ok[k]);
    if (keep.length < 2) break;
    linearPerFrame(
      Float64Array.from(keep, (k) => segments[k].t),
      Float64Array.from(keep, (k) => current[k]),
      [],
      f0,
      perFrame,
    );
    const cz = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      cz[i] = z[i] + perFrame[frameOf[i]];
      cells[i] = grid.cellOf(cx[i], cy[i], cz[i]);
    }
    grid.build(cells);
    const next = new Float64Array(m);
    const ax = new Float64Array(3);
    const g = new Float64Array(2);
    for (const k of keep) {
      const s = segments[k];
      const cnt = s.to - s.from;
      let mz = 0;
      for (let i = s.from; i < s.to; i++) mz += perFrame[frameOf[i]];
      for (let i = s.from; i < s.to; i++) grid.splat(cells[i], -1);
      let c = 0;
      let found: { u: number; h: number } | null = null;
      for (let step = 0; step <= MAX_CLIMB; step++) {
        ax.fill(0);
        g.fill(0);
        for (let i = s.from; i < s.to; i++) grid.addAxial3(cx[i], cy[i], cz[i] + c * binZ, ax, g);
        const best = ax[0] > ax[1] && ax[0] >= ax[2] ? 0 : ax[2] > ax[1] ? 2 : 1;
        if (best === 1) {
          const h = ax[0] + ax[2] - 2 * ax[1];
          if (h < 0) found = { u: Math.max(-1, Math.min(1, (ax[0] - ax[2]) / (2 * h))), h };
          break;
        }
        if (step === MAX_CLIMB) break;
        c += best - 1;
      }
      for (let i = s.from; i < s.to; i++) grid.splat(cells[i], +1);
      next[k] = mz / cnt + (found ? (c + found.u) * binZ : 0);
      if (found) {
        const m2 = g[1] - (g[0] * g[0]) / cnt;
        sdz[k] = (Math.sqrt(Math.max(m2, 0)) / -found.h) * binZ;
      }
    }
    current = next;
    await o.yieldNow?.();
  }
  return { dz: current, sdz };
}
