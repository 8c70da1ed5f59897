/**
 * The fiducial and AIM methods as `estimateDriftFromLocs` offers them (method 'fiducial' or
 * 'AIM'): the table's columns in, a drift trace of the same kind as RCC's out, with what was
 * chosen and found.
 */
import { InputError } from '../errors.js';
import type { CorrelationExecutor } from '../registration/correlationExecutor.js';
import type { DriftTrace, NumericArray, ProgressReporter } from '../types.js';
import { estimateDriftAim, type AimOptions, type AimResult } from './estimateDriftAim.js';
import { estimateDriftFiducial, type FiducialOptions, type FiducialResult } from './estimateDriftFiducial.js';
import { estimateDriftFromLocs, type LocInput } from './estimateDriftFromLocs.js';

export interface FiducialLocsOptions extends Omit<FiducialOptions, 'progress' | 'coarse'> {
  method: 'fiducial';
  /**
   * The correction applied before the markers are looked for and tracked (picks are in its
   * coordinates): 'auto' = an RCC at the automatic parameters without the fine stage when no
   * picks are given, none with picks; 'rcc' always; 'none'; or a drift trace (e.g. from RCC:
   * Picasso's recipe "RCC, then fiducials"). @default 'auto'
   */
  coarse?: 'auto' | 'rcc' | 'none' | DriftTrace;
}

export interface AimLocsOptions extends Omit<AimOptions, 'progress' | 'yieldNow'> {
  method: 'AIM';
}

export interface MarkerMethodResult {
  method: 'fiducial' | 'AIM';
  drift: DriftTrace;
  /** The coarse drift the fiducials were tracked after, when there was one. */
  coarseDrift?: DriftTrace;
  fiducial?: FiducialResult;
  aim?: AimResult;
  choices: { summary: string };
}

/** The coarse RCC before the marker search: bin (nm) and number of windows. */
export const COARSE_BIN_NM = 40;
export const COARSE_WINDOWS = 25;

interface Context {
  executor?: CorrelationExecutor;
  progress?: ProgressReporter;
  yieldNow?: () => Promise<void> | undefined;
}

function columnsOf(input: LocInput): { x: NumericArray; y: NumericArray; z?: NumericArray; t: NumericArray } {
  if (!('columns' in input)) return input;
  const get = (c: string) => input.columns.get(c);
  const missing = ['x', 'y', 't'].filter((c) => !get(c));
  if (missing.length) throw new InputError(`the table has no ${missing.join(', ')} column (columns: ${[...input.columns.keys()].join(', ')})`);
  return { x: get('x')!, y: get('y')!, z: get('z'), t: get('t')! };
}

export async function estimateDriftByMarkers(input: LocInput, options: FiducialLocsOptions | AimLocsOptions, ctx: Context = {}): Promise<MarkerMethodResult> {
  const cols = columnsOf(input);
  if (options.method === 'AIM') {
    const { method: _m, ...aimOptions } = options;
    const sorted = sortedByFrame(cols);
    const aim = await estimateDriftAim(sorted, { ...aimOptions, progress: ctx.progress, yieldNow: ctx.yieldNow });
    return { method: 'AIM', drift: aim.drift, aim, choices: { summary: aim.summary } };
  }
  const { method: _m, coarse = 'auto', ...fo } = options;
  let coarseDrift: DriftTrace | undefined;
  let coarseText = '';
  const wantRcc = coarse === 'rcc' || (coarse === 'auto' && !(fo.picks && fo.picks.length > 0));
  if (typeof coarse === 'object') {
    coarseDrift = coarse;
    coarseText = 'tracked after the given coarse drift';
  } else if (wantRcc) {
    // Coarse: it only has to bring each marker within its circle, so large bins and few windows
    // (a fine RCC at the automatic bin costs many times more and is not needed).
    // Its warnings (peaks at the border of coarse bins…) are not the user's concern: the markers decide.
    const quiet = ctx.progress && { ...ctx.progress, warn: undefined };
    const rcc = await estimateDriftFromLocs(
      input,
      { refine: false, flattenZ: true, binSizeNm: COARSE_BIN_NM, windowCount: COARSE_WINDOWS },
      { ...ctx, progress: quiet },
    );
    coarseDrift = rcc.drift;
    coarseText = `tracked after a coarse RCC (${rcc.choices.summary})`;
  }
  const fiducial = estimateDriftFiducial(cols, { ...fo, coarse: coarseDrift, progress: ctx.progress });
  return {
    method: 'fiducial',
    drift: fiducial.drift,
    coarseDrift,
    fiducial,
    choices: { summary: fiducial.summary + (coarseText ? `; ${coarseText}` : '') },
  };
}

/** Rows in frame order (AIM's segments are frame ranges); sorted input is used as it is. */
function sortedByFrame(cols: { x: NumericArray; y: NumericArray; z?: NumericArray; t: NumericArray }) {
  const { t } = cols;
  let sorted = true;
  for (let i = 1; i < t.length && sorted; i++) if (t[i] < t[i - 1]) sorted = false;
  if (sorted) return cols;
  const order = Uint32Array.from({ length: t.length }, (_, i) => i).sort((a, b) => t[a] - t[b]);
  const take = (v: NumericArray) => Float64Array.from(order, (i) => v[i]);
  return { x: take(cols.x), y: take(cols.y), z: cols.z && take(cols.z), t: take(t) };
}
