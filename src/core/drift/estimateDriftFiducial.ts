/**
 * Drift from fiducial markers (gold beads, bright always-on beads): each marker is followed
 * frame by frame and the markers' traces are combined with robust weights.
 *
 * - Markers are given (picks: centre and radius in the table's coordinates, after `coarse` when
 *   one is given) or found: places where localizations stay within `radiusNm` of one point in at
 *   least `minFraction` of the frames, with mostly one localization per frame (a blinking cluster
 *   has frames with several and frames with none), looked for after the coarse correction so
 *   that a large drift does not smear a marker over many bins.
 * - Tracking: in every frame, the localization nearest to where the marker was last seen, within
 *   its radius of there (the circle follows the coarse drift and the marker itself).
 * - Each marker's own trace is checked against its running median (a stray localization of a
 *   structure under the bead, a misfit): frames further than OUTLIER_SD of its scatter are left
 *   out. Its scatter (from the same residuals) sets its weight, so a dim marker counts less.
 * - Markers are tied together by offsets (median differences over shared frames), averaged per
 *   frame with weights 1/σ², and each is compared with the average of the OTHERS in blocks of
 *   frames: a marker that moves against the rest (drifts off, detaches) is left out where it
 *   does, and altogether when it disagrees most of the time (needs ≥ 3 markers to tell which).
 * - Frames without any marker are bridged by the interpolation (no sample there).
 *
 * Samples are the combined trace averaged over blocks of `sampleFrames` frames, with standard
 * errors (DriftTrace.sd). Sign: the correction to add (../types.ts).
 */
import { InsufficientDataError, UsageError } from '../errors.js';
import type { DriftTrace, NumericArray, ProgressReporter } from '../types.js';
import { linearPerFrame } from './refineDrift.js';
import { param } from '../messageParams.js';

export interface FiducialPick {
  xNm: number;
  yNm: number;
  /** Radius of the pick (nm); default: the search radius. */
  radiusNm?: number;
}

export interface FiducialOptions {
  /** Markers given by the user (else found automatically). */
  picks?: readonly FiducialPick[];
  /** Circle around a marker its localizations must stay in (nm). @default 100 */
  radiusNm?: number;
  /** A marker must be found in at least this fraction of the frames (automatic search). @default 0.5 */
  minFraction?: number;
  /** A coarse drift (correction to add) applied before the markers are looked for and tracked. */
  coarse?: DriftTrace;
  /** Frames per drift sample (the per-frame trace averaged). @default 10 */
  sampleFrames?: number;
  /** Ignore z even when given. */
  flattenZ?: boolean;
  progress?: ProgressReporter;
}

export const FIDUCIAL_DEFAULTS = { radiusNm: 100, minFraction: 0.5, sampleFrames: 10 } as const;

export interface FiducialMarker {
  /** Position (nm) in the corrected coordinates (the table's, after the coarse drift and this one). */
  x: number;
  y: number;
  z: number;
  radiusNm: number;
  /** Frames the marker was found in, and the fraction of all frames. */
  frames: number;
  fraction: number;
  /** Frames it contributed to the drift (after outliers and disagreement are left out). */
  usedFrames: number;
  /** Per-frame scatter (nm), x and y (and z). */
  sdNm: [number, number, number];
  used: boolean;
  /** Why it was not used, or which frames were left out. */
  note?: string;
}

export interface FiducialResult {
  drift: DriftTrace;
  markers: FiducialMarker[];
  /** Each used marker's own drift (the correction its track gives, offsets removed), averaged over blocks of frames: for plots. */
  markerTraces: DriftTrace[];
  /** Per input row: marker index + 1 for the localizations the markers were tracked by, else 0. */
  markerOfRow: Int32Array;
  /** Frames with at least one marker measurement, of all frames. */
  coveredFrames: number;
  totalFrames: number;
  summary: string;
}

/** Points per marker trace in plots. */
const MARKER_TRACE_POINTS = 300;
/** Below this fraction of frames with a marker measurement the warning says the markers were lost. */
const LOW_COVERAGE = 0.5;
/** Histogram bin of the automatic search, relative to the radius. */
const DETECT_BIN_PER_RADIUS = 0.5;
/** A marker's frames with more than one localization in its circle may be at most this fraction. */
export const MAX_MULTI_FRACTION = 0.3;
/** Running median over this many of the marker's own measurements (each side). */
const RUN_HALF = 25;
/** A measurement further than this many of the marker's sd from its running median is left out. */
export const OUTLIER_SD = 4;
/** Outlying frames are reported when more than this fraction of a marker's frames. */
const NOTE_OUTLIER_FRACTION = 0.02;
/** Blocks of frames in which a marker is compared with the others. */
const BLOCK_FRAMES = 200;
/** A block where the marker differs from the others by more than this many standard errors (and DISAGREE_MIN_NM) is left out. */
const DISAGREE_SE = 6;
const DISAGREE_MIN_NM = 1;
/** A marker left out in more than this fraction of its blocks is not used at all. */
const DISAGREE_FRACTION = 0.5;
const MAD_TO_SD = 1.4826;

interface Cols {
  x: NumericArray;
  y: NumericArray;
  z?: NumericArray;
  t: NumericArray;
}

function medianOf(v: ArrayLike<number>): number {
  const s = Float64Array.from(v).sort();
  if (s.length === 0) return NaN;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

export function validateFiducialOptions(o: FiducialOptions): void {
  if (o.radiusNm !== undefined && !(o.radiusNm > 0 && Number.isFinite(o.radiusNm))) {
    throw new UsageError(`${param('radiusNm')} must be a positive number of nm, got ${o.radiusNm}`, { param: 'radiusNm' });
  }
  if (o.minFraction !== undefined && !(o.minFraction > 0 && o.minFraction <= 1)) {
    throw new UsageError(`${param('minFraction')} (of the frames a marker is found in) must be in (0, 1], got ${o.minFraction}`, { param: 'minFraction' });
  }
  if (o.sampleFrames !== undefined && !(Number.isInteger(o.sampleFrames) && o.sampleFrames >= 1)) {
    throw new UsageError(`${param('sampleFrames')} (frames per drift sample) must be a whole number ≥ 1, got ${o.sampleFrames}`, { param: 'sampleFrames' });
  }
  for (const [i, p] of (o.picks ?? []).entries()) {
    if (!Number.isFinite(p.xNm) || !Number.isFinite(p.yNm)) throw new UsageError(`pick ${i + 1} has no finite x, y (got ${p.xNm}, ${p.yNm})`);
    if (p.radiusNm !== undefined && !(p.radiusNm > 0)) throw new UsageError(`pick ${i + 1} has radius ${p.radiusNm}; a radius must be > 0 nm`);
  }
}

/** The drift from fiducial markers. Rows need not be sorted. */
export function estimateDriftFiducial(cols: Cols, options: FiducialOptions = {}): FiducialResult {
  validateFiducialOptions(options);
  const radius = options.radiusNm ?? FIDUCIAL_DEFAULTS.radiusNm;
  const minFraction = options.minFraction ?? FIDUCIAL_DEFAULTS.minFraction;
  const sampleFrames = options.sampleFrames ?? FIDUCIAL_DEFAULTS.sampleFrames;
  const { x, y, t } = cols;
  const z = options.flattenZ ? undefined : cols.z;
  const n = t.length;
  if (n === 0) throw new InsufficientDataError('the table has no localizations');
  let tLo = Infinity;
  let tHi = -Infinity;
  for (let i = 0; i < n; i++) {
    tLo = Math.min(tLo, t[i]);
    tHi = Math.max(tHi, t[i]);
  }
  const f0 = Math.floor(tLo);
  const nFrames = Math.floor(tHi) - f0 + 1;
  if (nFrames < 2) throw new InsufficientDataError(`every localization is in frame ${f0}: drift needs at least two frames`);
  // Rows by frame (counting sort).
  const start = new Int32Array(nFrames + 1);
  for (let i = 0; i < n; i++) start[Math.floor(t[i]) - f0 + 1]++;
  for (let f = 0; f < nFrames; f++) start[f + 1] += start[f];
  const order = new Int32Array(n);
  const fill = start.slice(0, nFrames);
  for (let i = 0; i < n; i++) order[fill[Math.floor(t[i]) - f0]++] = i;

  // Coarse correction per frame.
  const coarse = [new Float64Array(nFrames), new Float64Array(nFrames), new Float64Array(nFrames)];
  if (options.coarse && options.coarse.t.length > 0) {
    const br = options.coarse.breaks ? Array.from(options.coarse.breaks) : [];
    (['x', 'y', 'z'] as const).forEach((a, k) => linearPerFrame(options.coarse!.t, options.coarse![a], br, f0, coarse[k]));
  }
  const qx = (i: number) => x[i] + coarse[0][Math.floor(t[i]) - f0];
  const qy = (i: number) => y[i] + coarse[1][Math.floor(t[i]) - f0];

  // Markers: picks, or found.
  let centres: { x: number; y: number; r: number }[];
  if (options.picks && options.picks.length > 0) {
    centres = options.picks.map((p) => ({ x: p.xNm, y: p.yNm, r: p.radiusNm ?? radius }));
    checkPicksInField(centres, x, y, options.coarse ? coarse : null, t, f0);
  } else {
    centres = findMarkers(n, qx, qy, t, f0, nFrames, radius, minFraction);
    if (centres.length === 0) {
      throw new InsufficientDataError(
        `no fiducial marker found: looked for places where localizations stay within ${radius} nm of one point in at least ` +
          `${Math.round(minFraction * 100)}% of the ${nFrames} frames (mostly one per frame)` +
          (options.coarse ? ', after a coarse RCC correction' : '') +
          `; give the markers (${param('picks')}), or a larger ${param('radiusNm')} / smaller ${param('minFraction')}`,
      );
    }
  }
  const m = centres.length;
  options.progress?.start?.('fiducial tracking', nFrames);

  // Tracking: the measurement of marker k in frame f is a row (or −1).
  const found = Array.from({ length: m }, () => new Int32Array(nFrames).fill(-1));
  const ex = new Float64Array(m);
  const ey = new Float64Array(m);
  for (let f = 0; f < nFrames; f++) {
    for (let k = 0; k < m; k++) {
      const c = centres[k];
      const gx = c.x - coarse[0][f];
      const gy = c.y - coarse[1][f];
      const prx = gx + ex[k];
      const pry = gy + ey[k];
      let best = -1;
      let bestD = Infinity;
      for (let q = start[f]; q < start[f + 1]; q++) {
        const i = order[q];
        // The circle follows the marker (centred where it was last seen): a pick on the raw
        // image, or drift beyond the coarse correction, does not lose it after a few frames.
        const d = (x[i] - prx) ** 2 + (y[i] - pry) ** 2;
        if (d > c.r * c.r) continue;
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best >= 0) {
        found[k][f] = best;
        ex[k] = x[best] - gx;
        ey[k] = y[best] - gy;
      }
    }
    if (f % 4096 === 4095) options.progress?.update?.(f + 1);
  }
  options.progress?.stop?.();

  const axes = z ? 3 : 2;
  const coords = [x, y, z];
  // Per marker and axis: c = −position (the correction that brings it back), NaN when not found.
  const c = Array.from({ length: m }, (_, k) =>
    Array.from({ length: axes }, (_, a) => Float64Array.from(found[k], (row) => (row >= 0 ? -coords[a]![row] : NaN))),
  );
  const ok = found.map((fk) => Uint8Array.from(fk, (row) => (row >= 0 ? 1 : 0)));
  const sd = Array.from({ length: m }, () => [Infinity, Infinity, Infinity] as [number, number, number]);
  const notes: (string | undefined)[] = new Array(m).fill(undefined);
  const usable = new Uint8Array(m).fill(1);

  // 1. Each marker against its own running median: outliers out, scatter → weight.
  for (let k = 0; k < m; k++) {
    const frames: number[] = [];
    for (let f = 0; f < nFrames; f++) if (ok[k][f]) frames.push(f);
    if (frames.length < 2 * RUN_HALF + 1) {
      usable[k] = 0;
      notes[k] = `found in only ${frames.length} frames`;
      frames.forEach((f) => (ok[k][f] = 0));
      continue;
    }
    const res = Array.from({ length: axes }, () => new Float64Array(frames.length));
    for (let a = 0; a < axes; a++) {
      const v = Float64Array.from(frames, (f) => c[k][a][f]);
      const win = new Float64Array(2 * RUN_HALF + 1);
      for (let q = 0; q < frames.length; q++) {
        const lo = Math.max(0, Math.min(q - RUN_HALF, frames.length - win.length));
        win.set(v.subarray(lo, lo + win.length));
        win.sort();
        res[a][q] = v[q] - win[RUN_HALF];
      }
      sd[k][a] = MAD_TO_SD * medianOf(res[a].map(Math.abs));
    }
    let dropped = 0;
    for (let q = 0; q < frames.length; q++) {
      let worst = 0;
      for (let a = 0; a < axes; a++) worst = Math.max(worst, Math.abs(res[a][q]) / Math.max(sd[k][a], 1e-6));
      if (worst > OUTLIER_SD) {
        ok[k][frames[q]] = 0;
        dropped++;
      }
    }
    // The scatter again without the outliers (a marker on a structure has a heavy tail).
    for (let a = 0; a < axes; a++) {
      const kept = res[a].filter((_, q) => ok[k][frames[q]]);
      sd[k][a] = Math.max(MAD_TO_SD * medianOf(kept.map(Math.abs)), 1e-3);
    }
    // A few outliers are the tail of any marker; many mean a structure under it or a poor fit.
    if (dropped > NOTE_OUTLIER_FRACTION * frames.length) notes[k] = `${dropped} of ${frames.length} frames outlying (a structure under it?) left out`;
  }
  const live = () => Array.from({ length: m }, (_, k) => k).filter((k) => usable[k]);
  if (live().length === 0) {
    throw new InsufficientDataError(
      `none of the ${m} fiducial markers could be followed for more than ${2 * RUN_HALF} frames; check ${param('picks')} or ${param('radiusNm')}`,
    );
  }

  // 2. Offsets and the weighted consensus, with the leave-others-out comparison in blocks.
  const offset = Array.from({ length: m }, () => new Float64Array(axes));
  const D = Array.from({ length: axes }, () => new Float64Array(nFrames));
  const W = Array.from({ length: axes }, () => new Float64Array(nFrames));
  const consensus = () => {
    for (let a = 0; a < axes; a++) {
      D[a].fill(0);
      W[a].fill(0);
      for (const k of live()) {
        const w = 1 / sd[k][a] ** 2;
        const ck = c[k][a];
        for (let f = 0; f < nFrames; f++) {
          if (!ok[k][f]) continue;
          D[a][f] += w * (ck[f] - offset[k][a]);
          W[a][f] += w;
        }
      }
      for (let f = 0; f < nFrames; f++) D[a][f] = W[a][f] > 0 ? D[a][f] / W[a][f] : NaN;
    }
  };
  // Initial offsets by chaining: markers in order of frames found, each against those placed.
  const byFrames = live().sort((p, q) => count(ok[q]) - count(ok[p]));
  const placed: number[] = [];
  for (const k of byFrames) {
    if (placed.length > 0) {
      for (let a = 0; a < axes; a++) {
        const diffs: number[] = [];
        for (let f = 0; f < nFrames; f++) {
          if (!ok[k][f]) continue;
          for (const j of placed) if (ok[j][f]) diffs.push(c[k][a][f] - (c[j][a][f] - offset[j][a]));
        }
        offset[k][a] = diffs.length > 0 ? medianOf(diffs) : 0;
      }
      if (
        !hasOverlap(
          ok[k],
          placed.map((j) => ok[j]),
        )
      ) {
        notes[k] = (notes[k] ? notes[k] + '; ' : '') + 'never seen together with another marker: its offset is a guess';
      }
    }
    placed.push(k);
  }
  for (let iter = 0; iter < 3; iter++) {
    consensus();
    for (const k of live()) {
      for (let a = 0; a < axes; a++) {
        const d: number[] = [];
        for (let f = 0; f < nFrames; f++) if (ok[k][f] && Number.isFinite(D[a][f])) d.push(c[k][a][f] - offset[k][a] - D[a][f]);
        if (d.length > 0) offset[k][a] += medianOf(d);
      }
    }
    if (iter === 0 && live().length >= 3) {
      consensus();
      rejectDisagreeing();
    }
  }
  consensus();

  /**
   * Per block of frames, the marker that differs most from the weighted mean of the others (and
   * significantly) is left out there, then the next, while at least three remain: a majority
   * decides which one moved. A marker left out in most of its blocks is not used.
   */
  function rejectDisagreeing(): void {
    const blocksOf = new Float64Array(m);
    const badOf = new Float64Array(m);
    const minimum = 5;
    for (let b0 = 0; b0 < nFrames; b0 += BLOCK_FRAMES) {
      const b1 = Math.min(nFrames, b0 + BLOCK_FRAMES);
      const inBlock = live().filter((k) => {
        let cnt = 0;
        for (let f = b0; f < b1; f++) cnt += ok[k][f];
        return cnt >= minimum;
      });
      inBlock.forEach((k) => blocksOf[k]++);
      const S = new Set(inBlock);
      while (S.size >= 3) {
        let worstK = -1;
        let worstScore = 0;
        for (const k of S) {
          let score = 0;
          for (let a = 0; a < axes; a++) {
            let sum = 0;
            let cnt = 0;
            let varSum = 0;
            for (let f = b0; f < b1; f++) {
              if (!ok[k][f]) continue;
              let num = 0;
              let den = 0;
              for (const j of S) {
                if (j === k || !ok[j][f]) continue;
                const w = 1 / sd[j][a] ** 2;
                num += w * (c[j][a][f] - offset[j][a]);
                den += w;
              }
              if (den === 0) continue;
              sum += c[k][a][f] - offset[k][a] - num / den;
              varSum += sd[k][a] ** 2 + 1 / den;
              cnt++;
            }
            if (cnt < minimum) continue;
            const mean = sum / cnt;
            const se = Math.sqrt(varSum) / cnt;
            if (Math.abs(mean) > DISAGREE_MIN_NM) score = Math.max(score, Math.abs(mean) / se);
          }
          if (score > worstScore) {
            worstScore = score;
            worstK = k;
          }
        }
        if (worstK < 0 || worstScore <= DISAGREE_SE) break;
        S.delete(worstK);
        badOf[worstK]++;
        for (let f = b0; f < b1; f++) ok[worstK][f] = 0;
      }
    }
    for (const k of live()) {
      if (badOf[k] === 0) continue;
      if (badOf[k] > DISAGREE_FRACTION * blocksOf[k]) {
        usable[k] = 0;
        notes[k] = `moves against the other markers in ${badOf[k]} of ${blocksOf[k]} blocks of ${BLOCK_FRAMES} frames: not used`;
      } else {
        notes[k] = (notes[k] ? notes[k] + '; ' : '') + `moves against the other markers in ${badOf[k]} blocks of ${BLOCK_FRAMES} frames, left out there`;
      }
    }
  }

  // 3. Samples: the consensus averaged over blocks of sampleFrames frames.
  const ts: number[] = [];
  const vs: number[][] = Array.from({ length: 3 }, () => []);
  const ss: number[][] = Array.from({ length: 3 }, () => []);
  let covered = 0;
  for (let f = 0; f < nFrames; f++) if (W[0][f] > 0) covered++;
  for (let b0 = 0; b0 < nFrames; b0 += sampleFrames) {
    const b1 = Math.min(nFrames, b0 + sampleFrames);
    let wt = 0;
    let tt = 0;
    for (let f = b0; f < b1; f++) {
      if (!(W[0][f] > 0)) continue;
      wt += W[0][f];
      tt += W[0][f] * (f0 + f);
    }
    if (wt === 0) continue;
    ts.push(tt / wt);
    for (let a = 0; a < 3; a++) {
      if (a >= axes) {
        vs[a].push(0);
        ss[a].push(0);
        continue;
      }
      let s = 0;
      let w = 0;
      for (let f = b0; f < b1; f++) {
        if (!(W[a][f] > 0)) continue;
        s += W[a][f] * D[a][f];
        w += W[a][f];
      }
      vs[a].push(s / w);
      ss[a].push(1 / Math.sqrt(w));
    }
  }
  if (ts.length < 2) throw new InsufficientDataError(`the fiducial markers were found in too few frames (${covered}) for a drift`);
  // The markers' traces are of the raw positions, so D is the whole correction (the coarse drift
  // only guided the search); the first sample is 0.
  const total = (a: number) => Float64Array.from(vs[a], (v) => v - vs[a][0]);
  const drift: DriftTrace = {
    t: Float64Array.from(ts),
    x: total(0),
    y: total(1),
    z: z ? total(2) : new Float64Array(ts.length),
    sd: { x: Float64Array.from(ss[0]), y: Float64Array.from(ss[1]), z: Float64Array.from(ss[2]) },
  };
  if (options.coarse?.breaks) drift.breaks = Float64Array.from(options.coarse.breaks);

  // Report: each marker's corrected position, frames, scatter.
  const markerOfRow = new Int32Array(n);
  const markers: FiducialMarker[] = centres.map((cen, k) => {
    let frames = 0;
    let used = 0;
    const pos = [0, 0, 0];
    let np = 0;
    for (let f = 0; f < nFrames; f++) {
      const row = found[k][f];
      if (row < 0) continue;
      frames++;
      markerOfRow[row] = k + 1;
      if (usable[k] && ok[k][f]) used++;
      if (Number.isFinite(D[0][f])) {
        for (let a = 0; a < axes; a++) pos[a] += coords[a]![row] + D[a][f];
        np++;
      }
    }
    return {
      x: np ? pos[0] / np : cen.x,
      y: np ? pos[1] / np : cen.y,
      z: np && z ? pos[2] / np : 0,
      radiusNm: cen.r,
      frames,
      fraction: frames / nFrames,
      usedFrames: usable[k] ? used : 0,
      sdNm: [sd[k][0], sd[k][1], axes > 2 ? sd[k][2] : 0],
      used: !!usable[k] && used > 0,
      note: notes[k],
    };
  });
  // Positions in the corrected coordinates: relative to the drift's first sample (0).
  for (const mk of markers) {
    mk.x -= vs[0][0];
    mk.y -= vs[1][0];
    if (z) mk.z -= vs[2][0];
  }
  // Each used marker's own trace, on the drift's scale (for plots; ~MARKER_TRACE_POINTS points).
  const block = Math.max(sampleFrames, Math.ceil(nFrames / MARKER_TRACE_POINTS));
  const markerTraces: DriftTrace[] = [];
  for (let k = 0; k < m; k++) {
    if (!markers[k].used) continue;
    const tt: number[] = [];
    const vv: number[][] = [[], [], []];
    for (let b0 = 0; b0 < nFrames; b0 += block) {
      let cnt = 0;
      let tsum = 0;
      const sum = [0, 0, 0];
      for (let f = b0; f < Math.min(nFrames, b0 + block); f++) {
        if (!ok[k][f]) continue;
        cnt++;
        tsum += f0 + f;
        for (let a = 0; a < axes; a++) sum[a] += c[k][a][f] - offset[k][a];
      }
      if (cnt === 0) continue;
      tt.push(tsum / cnt);
      for (let a = 0; a < 3; a++) vv[a].push(a < axes ? sum[a] / cnt - vs[a][0] : 0);
    }
    markerTraces.push({ t: Float64Array.from(tt), x: Float64Array.from(vv[0]), y: Float64Array.from(vv[1]), z: Float64Array.from(vv[2]) });
  }
  const nUsed = markers.filter((mk) => mk.used).length;
  const summary =
    `${options.picks?.length ? `${m} picked` : `${m} found`} fiducial marker${m === 1 ? '' : 's'}, ${nUsed} used ` +
    `(${markers.map((mk, k) => `#${k + 1} at ${mk.x.toFixed(0)}, ${mk.y.toFixed(0)} nm in ${(100 * mk.fraction).toFixed(0)}% of frames, sd ${mk.sdNm[0].toFixed(1)}/${mk.sdNm[1].toFixed(1)} nm${mk.used ? '' : ' — not used'}`).join('; ')}); ` +
    `${covered} of ${nFrames} frames covered, samples every ${sampleFrames} frames`;
  const warn = (message: string) => options.progress?.warn?.(message);
  for (const [k, mk] of markers.entries()) if (mk.note) warn(`fiducial #${k + 1} (${mk.x.toFixed(0)}, ${mk.y.toFixed(0)} nm): ${mk.note}`);
  if (nUsed === 1) warn('only one fiducial marker is used: nothing checks it; its own movement (if any) becomes drift');
  if (nUsed === 2) warn('two fiducial markers are used: when they disagree there is no majority to tell which one moved');
  if (covered < nFrames) {
    warn(
      `${nFrames - covered} of ${nFrames} frames have no marker measurement; the drift there is interpolated` +
        (covered < LOW_COVERAGE * nFrames
          ? `: the markers were lost (a jump larger than their radius, bleaching?); check ${param('picks')}, a larger ${param('radiusNm')}, or correct with RCC before tracking the markers`
          : ''),
    );
  }
  return { drift, markers, markerTraces, markerOfRow, coveredFrames: covered, totalFrames: nFrames, summary };
}

function count(v: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

function hasOverlap(a: Uint8Array, others: Uint8Array[]): boolean {
  for (let f = 0; f < a.length; f++) if (a[f] && others.some((o) => o[f])) return true;
  return false;
}

/** Picks must lie in the field of the localizations (with the drift applied when given). */
function checkPicksInField(
  centres: { x: number; y: number; r: number }[],
  x: NumericArray,
  y: NumericArray,
  coarse: Float64Array[] | null,
  t: NumericArray,
  f0: number,
): void {
  let xl = Infinity;
  let xh = -Infinity;
  let yl = Infinity;
  let yh = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const f = Math.floor(t[i]) - f0;
    const px = x[i] + (coarse ? coarse[0][f] : 0);
    const py = y[i] + (coarse ? coarse[1][f] : 0);
    xl = Math.min(xl, px);
    xh = Math.max(xh, px);
    yl = Math.min(yl, py);
    yh = Math.max(yh, py);
  }
  const outside = centres.flatMap((c, k) => (c.x + c.r < xl || c.x - c.r > xh || c.y + c.r < yl || c.y - c.r > yh ? [k] : []));
  if (outside.length > 0) {
    throw new UsageError(
      `pick${outside.length > 1 ? 's' : ''} ${outside.map((k) => `${k + 1} (${centres[k].x.toFixed(0)}, ${centres[k].y.toFixed(0)} nm)`).join(', ')} ` +
        `lie outside the localizations' field x ${xl.toFixed(0)}…${xh.toFixed(0)}, y ${yl.toFixed(0)}…${yh.toFixed(0)} nm; ` +
        'picks are in nm (a Picasso picks .yaml is in camera pixels: give the pixel size)',
    );
  }
}

/**
 * Places where localizations stay within `radius` of one point in ≥ minFraction of the frames,
 * mostly one per frame. Candidates from a coarse histogram (2×2 block sums, local maxima),
 * centred by the median, counted in distinct frames.
 */
function findMarkers(
  n: number,
  qx: (i: number) => number,
  qy: (i: number) => number,
  t: NumericArray,
  f0: number,
  nFrames: number,
  radius: number,
  minFraction: number,
): { x: number; y: number; r: number }[] {
  const bin = DETECT_BIN_PER_RADIUS * radius;
  let xl = Infinity;
  let xh = -Infinity;
  let yl = Infinity;
  let yh = -Infinity;
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    px[i] = qx(i);
    py[i] = qy(i);
    xl = Math.min(xl, px[i]);
    xh = Math.max(xh, px[i]);
    yl = Math.min(yl, py[i]);
    yh = Math.max(yh, py[i]);
  }
  const nx = Math.floor((xh - xl) / bin) + 2;
  const ny = Math.floor((yh - yl) / bin) + 2;
  if (nx * ny > 64e6)
    throw new UsageError(
      `the field (${(xh - xl).toFixed(0)} × ${(yh - yl).toFixed(0)} nm) is too large to search for fiducials at a radius of ${radius} nm; give the markers (${param('picks')})`,
    );
  const h = new Uint32Array(nx * ny);
  const cell = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cell[i] = Math.floor((px[i] - xl) / bin) + Math.floor((py[i] - yl) / bin) * nx;
    h[cell[i]]++;
  }
  // A marker found in ≥ minFraction of frames puts at least a quarter of that in one 2×2 block's cell… use the block sum.
  const need = minFraction * nFrames;
  const block = (c: number) => h[c] + h[c + 1] + h[c + nx] + h[c + nx + 1];
  const cand: number[] = [];
  for (let iy = 0; iy + 1 < ny; iy++) {
    for (let ix = 0; ix + 1 < nx; ix++) {
      const c = ix + iy * nx;
      const v = block(c);
      if (v < need) continue;
      let max = true;
      for (let dy = -1; dy <= 1 && max; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (!dx && !dy) continue;
          const jx = ix + dx;
          const jy = iy + dy;
          if (jx < 0 || jy < 0 || jx + 1 >= nx || jy + 1 >= ny) continue;
          const w = block(jx + jy * nx);
          if (w > v || (w === v && jx + jy * nx < c)) {
            max = false;
            break;
          }
        }
      }
      if (max) cand.push(c);
    }
  }
  // Rows per cell for the candidates' neighbourhoods.
  const wanted = new Map<number, number[]>();
  const reach = Math.ceil(radius / bin) + 1;
  for (const c of cand) {
    const ix = c % nx;
    const iy = Math.floor(c / nx);
    for (let dy = -reach; dy <= reach + 1; dy++) {
      for (let dx = -reach; dx <= reach + 1; dx++) {
        const jx = ix + dx;
        const jy = iy + dy;
        if (jx >= 0 && jy >= 0 && jx < nx && jy < ny) wanted.set(jx + jy * nx, []);
      }
    }
  }
  for (let i = 0; i < n; i++) wanted.get(cell[i])?.push(i);
  const out: { x: number; y: number; r: number; frames: number }[] = [];
  const seen = new Uint8Array(nFrames);
  for (const c of cand) {
    const ix = c % nx;
    const iy = Math.floor(c / nx);
    const rows: number[] = [];
    for (let dy = -reach; dy <= reach + 1; dy++) {
      for (let dx = -reach; dx <= reach + 1; dx++) {
        const list = wanted.get(ix + dx + (iy + dy) * nx);
        if (list) for (const i of list) rows.push(i);
      }
    }
    let cx = medianOf(rows.filter((i) => cell[i] === c || cell[i] === c + 1 || cell[i] === c + nx || cell[i] === c + nx + 1).map((i) => px[i]));
    let cy = medianOf(rows.filter((i) => cell[i] === c || cell[i] === c + 1 || cell[i] === c + nx || cell[i] === c + nx + 1).map((i) => py[i]));
    let inside: number[] = [];
    for (let iter = 0; iter < 3; iter++) {
      inside = rows.filter((i) => (px[i] - cx) ** 2 + (py[i] - cy) ** 2 <= radius * radius);
      if (inside.length === 0) break;
      cx = medianOf(inside.map((i) => px[i]));
      cy = medianOf(inside.map((i) => py[i]));
    }
    seen.fill(0);
    let frames = 0;
    let multi = 0;
    for (const i of inside) {
      const f = Math.floor(t[i]) - f0;
      if (seen[f] === 1) multi++;
      if (seen[f] < 2) seen[f]++;
      if (seen[f] === 1) frames++;
    }
    if (frames < need || multi > MAX_MULTI_FRACTION * frames) continue;
    out.push({ x: cx, y: cy, r: radius, frames });
  }
  // Two candidates closer than twice the radius are one marker: keep the one seen in more frames.
  out.sort((a, b) => b.frames - a.frames);
  const kept: typeof out = [];
  for (const o of out) if (kept.every((k) => Math.hypot(k.x - o.x, k.y - o.y) > 2 * radius)) kept.push(o);
  kept.sort((a, b) => a.y - b.y || a.x - b.x);
  return kept.map(({ x, y, r }) => ({ x, y, r }));
}
