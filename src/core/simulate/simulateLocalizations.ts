/**
 * Simulated SMLM localizations with a known drift: blinking emitters on wormlike filaments,
 * photon-limited localization precision, spurious background localizations, and a smooth
 * random drift with optional stage jumps. Deterministic for a given seed.
 *
 * Drift (see ../types.ts): `truth` is the correction to ADD, sampled at every frame, so
 *     x_observed = x_true + noise − truth.x[t]   and   x_observed + truth.x[t] = x_true + noise.
 */
import { UsageError } from '../errors.js';
import { checkAllocation } from '../memoryLimit.js';
import type { DriftTrace, LocTable, Metadata, NumericArray } from '../types.js';
import { createRandom, type SeededRandom } from './random.js';
import { simulateDriftTrace, type DriftJump, type DriftOscillation } from './simulateDriftTrace.js';
import { simulateFilaments } from './simulateFilaments.js';

export interface SimulateLocalizationsOptions {
  /** Acquisition length (frames); t is in [0, frames). @default 30000 */
  frames?: number;
  /** Total number of localizations (emitters plus spurious), exactly. @default 130000 */
  locs?: number;
  /** 2 (x, y) or 3 (x, y, z). @default 2 */
  dim?: 2 | 3;
  /** Seed of the generator (non-negative integer). @default 1 */
  seed?: number;
  /** Side of the square field of view (nm); structures lie in [0, fieldNm]². @default 20000 */
  fieldNm?: number;
  /** Number of wormlike filaments. @default round(30 · (fieldNm / 20000)²), at least 1 */
  filaments?: number;
  /** Mean filament contour length (nm). @default fieldNm / 2 */
  filamentLengthNm?: number;
  /** Persistence length of the filaments (nm). @default 1500 */
  persistenceLengthNm?: number;
  /** 3D only: structures lie in z ∈ [−zRangeNm, zRangeNm]. @default 400 */
  zRangeNm?: number;
  /** Fraction of localizations that are spurious (uniform over the field and frames). @default 0.03 */
  spuriousFraction?: number;
  /** Mean number of localizations per emitter (sets the number of emitters). @default 10 */
  locsPerEmitter?: number;
  /** Mean length of one blinking burst (frames, geometric distribution). @default 3 */
  meanOnFrames?: number;
  /** Median photons per localization (lognormal). @default 350 */
  photonsMedian?: number;
  /** Background photons per camera pixel (median). @default 10 */
  backgroundPhotons?: number;
  /** Camera pixel size (nm), for the precision model and `A`. @default 100 */
  pixelNm?: number;
  /** PSF standard deviation at focus (nm). @default 130 */
  psfSigmaNm?: number;
  /** Peak |drift| of the smooth part in x and y (nm). @default 300 */
  driftAmplitudeNm?: number;
  /** 3D only: peak |drift| of the smooth part in z (nm). @default 100 */
  driftAmplitudeZNm?: number;
  /**
   * Sudden stage steps: frames (random direction, `jumpSizeNm`) or explicit steps of the
   * truth (correction to add) from that frame on. @default []
   */
  jumps?: ReadonlyArray<number | DriftJump>;
  /** Lateral size of jumps given as bare frames (nm). @default 200 */
  jumpSizeNm?: number;
  /** Fast periodic drift added to x and y (see simulateDriftTrace). @default [] */
  oscillations?: ReadonlyArray<DriftOscillation>;
  /**
   * Always-on fiducial markers (gold beads, bright fluorescent beads): one localization per
   * marker in every frame, in addition to `locs`, at random positions in the field. @default 0
   */
  beads?: number;
  /** Photons per bead localization (sets its precision). @default 8000 */
  beadPhotons?: number;
  /** Add an Int32 column `emitter` with the true emitter index (−1 for spurious, −2 − k for bead k). @default false */
  emitterColumn?: boolean;
}

export interface SimulatedLocalizations {
  table: LocTable;
  /** Correction to add at every frame 0..frames−1 (truth.t[i] = i, truth.x[0] = 0). */
  truth: DriftTrace;
  /** True emitter positions (nm), indexed by the `emitter` column. */
  emitters: { x: Float64Array; y: Float64Array; z: Float64Array };
}

/** Log-space spread of photons per localization. */
const PHOTONS_SIGMA_LOG = 0.35;
/** Spurious localizations are dimmer than emitters by this factor (median photons). */
const SPURIOUS_PHOTON_FACTOR = 0.6;
/** Detection threshold: fainter spots are not fitted, so photons never fall below this. */
const PHOTONS_MIN = 120;
/** Log-space spread of the background per localization. */
const BACKGROUND_SIGMA_LOG = 0.25;
/** Spread of the fitted PSF width about its mean (nm), and the range fits are accepted in. */
const SIG_JITTER_NM = 8;
const SIG_RANGE_NM: [number, number] = [100, 180];
/** 3D astigmatic PSF: width grows by this fraction at the edge of the z range. */
const ASTIGMATIC_WIDENING = 0.3;
/** Per-axis jitter of the fitted precision about the Mortensen value (log space). */
const PRECISION_JITTER_LOG = 0.08;
/** Axial precision relative to lateral (typical for astigmatic 3D). */
const AXIAL_PRECISION_FACTOR = 2.5;
/** Label size: emitters sit this far (sd, nm) from the filament axis. */
const LABEL_SD_NM = 5;
/** Polyline step of the filaments (nm). */
const FILAMENT_STEP_NM = 20;

interface Resolved {
  frames: number;
  locs: number;
  dim: 2 | 3;
  seed: number;
  fieldNm: number;
  filaments: number;
  filamentLengthNm: number;
  persistenceLengthNm: number;
  zRangeNm: number;
  spuriousFraction: number;
  locsPerEmitter: number;
  meanOnFrames: number;
  photonsMedian: number;
  backgroundPhotons: number;
  pixelNm: number;
  psfSigmaNm: number;
  driftAmplitudeNm: number;
  driftAmplitudeZNm: number;
  jumpSizeNm: number;
  beads: number;
  beadPhotons: number;
  emitterColumn: boolean;
}

function resolveOptions(o: SimulateLocalizationsOptions): Resolved {
  const fieldNm = o.fieldNm ?? 20000;
  const r: Resolved = {
    frames: o.frames ?? 30000,
    locs: o.locs ?? 130000,
    dim: o.dim ?? 2,
    seed: o.seed ?? 1,
    fieldNm,
    filaments: o.filaments ?? Math.max(1, Math.round(30 * (fieldNm / 20000) ** 2)),
    filamentLengthNm: o.filamentLengthNm ?? fieldNm / 2,
    persistenceLengthNm: o.persistenceLengthNm ?? 1500,
    zRangeNm: o.zRangeNm ?? 400,
    spuriousFraction: o.spuriousFraction ?? 0.03,
    locsPerEmitter: o.locsPerEmitter ?? 10,
    meanOnFrames: o.meanOnFrames ?? 3,
    photonsMedian: o.photonsMedian ?? 350,
    backgroundPhotons: o.backgroundPhotons ?? 10,
    pixelNm: o.pixelNm ?? 100,
    psfSigmaNm: o.psfSigmaNm ?? 130,
    driftAmplitudeNm: o.driftAmplitudeNm ?? 300,
    driftAmplitudeZNm: o.driftAmplitudeZNm ?? 100,
    jumpSizeNm: o.jumpSizeNm ?? 200,
    beads: o.beads ?? 0,
    beadPhotons: o.beadPhotons ?? 8000,
    emitterColumn: o.emitterColumn ?? false,
  };
  if (r.dim !== 2 && r.dim !== 3) throw new UsageError(`dim must be 2 or 3; received ${r.dim}`);
  if (!Number.isInteger(r.frames) || r.frames < 1) {
    throw new UsageError(`frames must be a positive integer; received ${r.frames}`);
  }
  if (!Number.isInteger(r.locs) || r.locs < 0) {
    throw new UsageError(`locs must be a non-negative integer; received ${r.locs}`);
  }
  if (!(r.spuriousFraction >= 0 && r.spuriousFraction <= 1)) {
    throw new UsageError(`spuriousFraction must be in [0, 1]; received ${r.spuriousFraction}`);
  }
  if (!(r.meanOnFrames >= 1) || !Number.isFinite(r.meanOnFrames)) {
    throw new UsageError(`meanOnFrames must be ≥ 1 (a burst lasts at least one frame); received ${r.meanOnFrames}`);
  }
  if (!(r.locsPerEmitter >= 1) || !Number.isFinite(r.locsPerEmitter)) {
    throw new UsageError(`locsPerEmitter must be ≥ 1; received ${r.locsPerEmitter}`);
  }
  for (const key of ['fieldNm', 'photonsMedian', 'pixelNm', 'psfSigmaNm'] as const) {
    if (!(r[key] > 0) || !Number.isFinite(r[key])) {
      throw new UsageError(`${key} must be a finite number > 0; received ${r[key]}`);
    }
  }
  if (!Number.isInteger(r.beads) || r.beads < 0) throw new UsageError(`beads must be a whole number ≥ 0; received ${r.beads}`);
  if (!(r.beadPhotons > 0) || !Number.isFinite(r.beadPhotons)) throw new UsageError(`beadPhotons must be a finite number > 0; received ${r.beadPhotons}`);
  if (!(r.backgroundPhotons >= 0) || !Number.isFinite(r.backgroundPhotons)) {
    throw new UsageError(`backgroundPhotons must be a finite number ≥ 0; received ${r.backgroundPhotons}`);
  }
  return r;
}

/**
 * Lateral localization precision (nm) of a Gaussian-PSF fit, Mortensen et al., Nat. Methods
 * 7, 377 (2010), doi:10.1038/nmeth.1447 (eq. 6, least squares):
 * σ² = σa²/N · (16/9 + 8π σa² b² / (N a²)), σa² = s² + a²/12, b² = background photons per pixel.
 */
function mortensenPrecisionNm(psfSigmaNm: number, pixelNm: number, photons: number, bgPerPixel: number): number {
  const sa2 = psfSigmaNm * psfSigmaNm + (pixelNm * pixelNm) / 12;
  return Math.sqrt((sa2 / photons) * (16 / 9 + (8 * Math.PI * sa2 * bgPerPixel) / (photons * pixelNm * pixelNm)));
}

/** Growable Int32 list (burst records are not known in number beforehand). */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
}

/**
 * Which emitter (or −1: spurious) each row belongs to, with rows sorted by frame: bursts of
 * geometric length at uniform random times on uniformly chosen emitters until the real
 * localizations are used up; spurious localizations at uniform frames. Counting sort by frame.
 */
function assignRows(rng: SeededRandom, r: Resolved, real: number, emitterCount: number): { emitterOfRow: Int32Array; frameStart: Int32Array } {
  const { frames, locs } = r;
  const burstEmitter = new IntList(Math.ceil((real / r.meanOnFrames) * 1.1));
  const burstStart = new IntList(burstEmitter.data.length);
  const burstLength = new IntList(burstEmitter.data.length);
  const countPerFrame = new Int32Array(frames + 1);
  const logStay = r.meanOnFrames > 1 ? Math.log(1 - 1 / r.meanOnFrames) : 0;
  let assigned = 0;
  while (assigned < real) {
    const emitter = rng.integer(emitterCount);
    const start = rng.integer(frames);
    let length = logStay < 0 ? 1 + Math.floor(Math.log(rng.uniform()) / logStay) : 1;
    length = Math.min(length, frames - start, real - assigned);
    burstEmitter.push(emitter);
    burstStart.push(start);
    burstLength.push(length);
    for (let f = start; f < start + length; f++) countPerFrame[f]++;
    assigned += length;
  }
  const spuriousFrames = new Int32Array(locs - real);
  for (let i = 0; i < spuriousFrames.length; i++) {
    spuriousFrames[i] = rng.integer(frames);
    countPerFrame[spuriousFrames[i]]++;
  }
  const frameStart = new Int32Array(frames + 1);
  for (let f = 0; f < frames; f++) frameStart[f + 1] = frameStart[f] + countPerFrame[f];
  const cursor = frameStart.slice(0, frames);
  const emitterOfRow = new Int32Array(locs);
  for (let b = 0; b < burstEmitter.length; b++) {
    const e = burstEmitter.data[b];
    const start = burstStart.data[b];
    for (let f = start; f < start + burstLength.data[b]; f++) emitterOfRow[cursor[f]++] = e;
  }
  for (let i = 0; i < spuriousFrames.length; i++) emitterOfRow[cursor[spuriousFrames[i]]++] = -1;
  return { emitterOfRow, frameStart };
}

/**
 * Simulate a drifting SMLM acquisition. Rows are sorted by `t`. Columns (Float64 unless
 * noted): x, y, (z), t, A, sig, error_x, error_y, (error_z), photons, bg, (emitter: Int32).
 * Metadata: `ccdrift.simulation` (the resolved options and jumps) and PYME-style
 * `voxelsize.x/y` in µm.
 */
export function simulateLocalizations(options: SimulateLocalizationsOptions = {}): SimulatedLocalizations {
  const r = resolveOptions(options);
  const threeD = r.dim === 3;
  // The table (every column Float64, plus the row → emitter map while it is built), before any of it is made.
  const rows = r.locs + r.beads * r.frames;
  const columnCount = (threeD ? 11 : 9) + (r.emitterColumn ? 0.5 : 0);
  checkAllocation(
    rows * (columnCount * 8 + 4) + r.frames * 48,
    `the simulated table (${rows} rows: ${r.locs} localizations${r.beads ? ` + ${r.beads} beads × ${r.frames} frames` : ''}, ${Math.ceil(columnCount)} columns) over ${r.frames} frames`,
    'simulate fewer localizations, beads or frames',
  );
  const rng = createRandom(r.seed);

  const { trace: truth, jumps } = simulateDriftTrace(rng, {
    frames: r.frames,
    dim: r.dim,
    amplitudeNm: r.driftAmplitudeNm,
    amplitudeZNm: r.driftAmplitudeZNm,
    jumps: options.jumps ?? [],
    jumpSizeNm: r.jumpSizeNm,
    oscillations: options.oscillations ?? [],
  });

  const spurious = r.locs === 0 ? 0 : Math.round(r.locs * r.spuriousFraction);
  const real = r.locs - spurious;
  const emitterCount = real === 0 ? 0 : Math.max(1, Math.round(real / r.locsPerEmitter));

  // Emitters: uniform along the filaments' contour, displaced by the label size.
  const emitters = {
    x: new Float64Array(emitterCount),
    y: new Float64Array(emitterCount),
    z: new Float64Array(emitterCount),
  };
  if (emitterCount > 0) {
    const chains = simulateFilaments(rng, {
      count: r.filaments,
      boundsNm: [0, r.fieldNm, 0, r.fieldNm],
      zHalfRangeNm: threeD ? r.zRangeNm : 0,
      persistenceLengthNm: r.persistenceLengthNm,
      meanLengthNm: r.filamentLengthNm,
      stepNm: Math.min(FILAMENT_STEP_NM, r.filamentLengthNm / 4),
    });
    for (let e = 0; e < emitterCount; e++) {
      const k = chains.segments[rng.integer(chains.segments.length)];
      const u = rng.uniform();
      emitters.x[e] = chains.x[k] + u * (chains.x[k + 1] - chains.x[k]) + LABEL_SD_NM * rng.normal();
      emitters.y[e] = chains.y[k] + u * (chains.y[k + 1] - chains.y[k]) + LABEL_SD_NM * rng.normal();
      if (threeD) emitters.z[e] = chains.z[k] + u * (chains.z[k + 1] - chains.z[k]) + LABEL_SD_NM * rng.normal();
    }
  }

  const { emitterOfRow, frameStart } = assignRows(rng, r, real, emitterCount);
  const beadX = Float64Array.from({ length: r.beads }, () => r.fieldNm * (0.05 + 0.9 * rng.uniform()));
  const beadY = Float64Array.from({ length: r.beads }, () => r.fieldNm * (0.05 + 0.9 * rng.uniform()));
  const beadZ = Float64Array.from({ length: r.beads }, () => (threeD ? r.zRangeNm * (rng.uniform() - 0.5) : 0));

  const n = r.locs + r.beads * r.frames;
  const emitterOut = r.emitterColumn ? new Int32Array(n) : null;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const z = threeD ? new Float64Array(n) : null;
  const t = new Float64Array(n);
  const A = new Float64Array(n);
  const sig = new Float64Array(n);
  const errorX = new Float64Array(n);
  const errorY = new Float64Array(n);
  const errorZ = threeD ? new Float64Array(n) : null;
  const photons = new Float64Array(n);
  const bg = new Float64Array(n);

  const pixelArea = r.pixelNm * r.pixelNm;
  const truthX = truth.x;
  const truthY = truth.y;
  const truthZ = truth.z;
  let row = 0;
  for (let f = 0; f < r.frames; f++) {
    const rowsOfFrame = frameStart[f + 1] - frameStart[f] + r.beads;
    for (let k = 0; k < rowsOfFrame; k++, row++) {
      const source = frameStart[f] + k;
      const bead = source < frameStart[f + 1] ? -1 : source - frameStart[f + 1];
      const e = bead >= 0 ? -2 - bead : emitterOfRow[source];
      if (emitterOut) emitterOut[row] = e;
      let tx: number;
      let ty: number;
      let tz = 0;
      let ph: number;
      if (bead >= 0) {
        tx = beadX[bead];
        ty = beadY[bead];
        tz = beadZ[bead];
        ph = r.beadPhotons * Math.exp(0.1 * rng.normal());
      } else if (e >= 0) {
        tx = emitters.x[e];
        ty = emitters.y[e];
        tz = emitters.z[e];
        ph = rng.lognormal(r.photonsMedian, PHOTONS_SIGMA_LOG);
      } else {
        tx = r.fieldNm * rng.uniform();
        ty = r.fieldNm * rng.uniform();
        if (threeD) tz = r.zRangeNm * (2 * rng.uniform() - 1);
        ph = rng.lognormal(r.photonsMedian * SPURIOUS_PHOTON_FACTOR, PHOTONS_SIGMA_LOG);
      }
      if (ph < PHOTONS_MIN) ph = PHOTONS_MIN;
      const b = r.backgroundPhotons * Math.exp(BACKGROUND_SIGMA_LOG * rng.normal());
      let s = r.psfSigmaNm + SIG_JITTER_NM * rng.normal();
      if (threeD) s += r.psfSigmaNm * ASTIGMATIC_WIDENING * (tz / r.zRangeNm) ** 2;
      s = Math.min(SIG_RANGE_NM[1], Math.max(SIG_RANGE_NM[0], s));
      const precision = mortensenPrecisionNm(s, r.pixelNm, ph, b);
      const ex = precision * Math.exp(PRECISION_JITTER_LOG * rng.normal());
      const ey = precision * Math.exp(PRECISION_JITTER_LOG * rng.normal());
      x[row] = tx + ex * rng.normal() - truthX[f];
      y[row] = ty + ey * rng.normal() - truthY[f];
      if (threeD) {
        const ez = AXIAL_PRECISION_FACTOR * precision * Math.exp(PRECISION_JITTER_LOG * rng.normal());
        z![row] = tz + ez * rng.normal() - truthZ[f];
        errorZ![row] = ez;
      }
      t[row] = f;
      photons[row] = ph;
      bg[row] = b;
      sig[row] = s;
      // Peak amplitude of the fitted Gaussian, in photons per pixel.
      A[row] = (ph * pixelArea) / (2 * Math.PI * s * s);
      errorX[row] = ex;
      errorY[row] = ey;
    }
  }

  const columns = new Map<string, NumericArray>();
  columns.set('x', x);
  columns.set('y', y);
  if (z) columns.set('z', z);
  columns.set('t', t);
  columns.set('A', A);
  columns.set('sig', sig);
  columns.set('error_x', errorX);
  columns.set('error_y', errorY);
  if (errorZ) columns.set('error_z', errorZ);
  columns.set('photons', photons);
  columns.set('bg', bg);
  if (emitterOut) columns.set('emitter', emitterOut);

  const metadata: Metadata = {
    'ccdrift.simulation': {
      ...r,
      jumps: jumps.map((j) => ({ frame: j.frame, xNm: j.xNm, yNm: j.yNm, zNm: j.zNm })),
    },
    'voxelsize.x': r.pixelNm / 1000,
    'voxelsize.y': r.pixelNm / 1000,
    'voxelsize.units': 'um',
  };
  return { table: { length: n, columns, metadata }, truth, emitters };
}
