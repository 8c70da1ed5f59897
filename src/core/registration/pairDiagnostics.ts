/**
 * How trustworthy the pair measurements of an RCC run look, and what to tell the user when
 * they do not (issue 8: no silent failure). Three failure signatures, each seen on real data:
 *
 * - pinned at zero: most pairs measure (almost) no shift. A structure fixed to the camera — a
 *   pedestal or background left in, uneven illumination, fixed-pattern noise, hot pixels —
 *   correlates best at zero shift whatever the sample did. (Or the sample did not drift.)
 * - weak peaks: the correlation peak barely stands above the next-highest separate peak, so
 *   noise or a repeat of the structure can win (too few photons or localizations per frame).
 * - at the search edge: the peak lies on the border of the searched region, so the true shift
 *   is probably beyond it.
 */
import type { RegistrationPlan } from './registrar.js';
import { param } from '../messageParams.js';

/** A pair is "pinned" when every axis' shift is below this, pixels. */
export const PINNED_SHIFT_PX = 0.1;
/** Warn when more than this fraction of the pairs is pinned. */
export const PINNED_WARN_FRACTION = 0.5;
/** Warn when the median pair's second-highest peak exceeds this fraction of its highest. */
export const WEAK_PEAK_RATIO = 0.8;
/** Pairs whose peak lies within this many pixels of the search border are "at the edge". */
export const EDGE_MARGIN_PX = 1;
/** Warn when more than this fraction of the pairs is at the edge. */
export const EDGE_WARN_FRACTION = 0.1;

export interface PairDiagnostics {
  /** Pairs with a peak. */
  measured: number;
  /** Fraction of measured pairs with |shift| < PINNED_SHIFT_PX on every axis. */
  pinnedFraction: number;
  /** Median over measured pairs of (second-highest separate peak − median) / (peak − median); NaN if none had one. */
  medianSecondaryRatio: number;
  /** Fraction of measured pairs whose peak is within EDGE_MARGIN_PX of the searched region's border. */
  edgeFraction: number;
}

/** Diagnose pair shifts (pixels, 3 per pair, NaN = no peak) and their secondary-peak ratios. */
export function diagnosePairs(shiftsPx: Float64Array, secondaryRatios: Float64Array, plan: RegistrationPlan): PairDiagnostics {
  const nPairs = secondaryRatios.length;
  const axes = [0, 1, 2].filter((a) => plan.shiftHi[a] - plan.shiftLo[a] > 1);
  let measured = 0;
  let pinned = 0;
  let edge = 0;
  const ratios: number[] = [];
  for (let p = 0; p < nPairs; p++) {
    if (!Number.isFinite(shiftsPx[3 * p])) continue;
    measured++;
    if (axes.every((a) => Math.abs(shiftsPx[3 * p + a]) < PINNED_SHIFT_PX)) pinned++;
    // Region [shiftLo, shiftHi) in whole-pixel shifts; the peak's integer position is the rounded shift.
    if (
      axes.some((a) => {
        const s = shiftsPx[3 * p + a];
        return s < plan.shiftLo[a] + EDGE_MARGIN_PX || s > plan.shiftHi[a] - 1 - EDGE_MARGIN_PX;
      })
    )
      edge++;
    const r = secondaryRatios[p];
    ratios.push(Number.isFinite(r) ? r : 0);
  }
  ratios.sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  const medianSecondaryRatio = ratios.length === 0 ? NaN : ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
  return {
    measured,
    pinnedFraction: measured ? pinned / measured : 0,
    medianSecondaryRatio,
    edgeFraction: measured ? edge / measured : 0,
  };
}

/** The warnings a diagnosis calls for, each saying what to try; `kind` words them for images or localizations. */
export function pairWarnings(d: PairDiagnostics, kind: 'images' | 'localizations'): string[] {
  const warnings: string[] = [];
  if (d.measured === 0) return warnings;
  const pct = (f: number) => `${Math.round(100 * f)}%`;
  if (d.pinnedFraction > PINNED_WARN_FRACTION) {
    warnings.push(
      `${pct(d.pinnedFraction)} of the pairs measure no shift (< ${PINNED_SHIFT_PX} px): either the sample did not drift, or something fixed to the camera dominates the correlation — ` +
        (kind === 'images'
          ? `check the pedestal with \`ccdrift info\`, keep ${param('background')} 'auto', raise ${param('thresholdLower')}/${param('clipToLower')} above the offset, or crop away hot pixels and uneven illumination`
          : 'look for fixed localizations (hot pixels, fiducials that do not move with the sample) and filter them out'),
    );
  }
  if (d.medianSecondaryRatio > WEAK_PEAK_RATIO) {
    warnings.push(
      `the correlation peaks are weak: in the median pair a separate peak reaches ${pct(d.medianSecondaryRatio)} of the highest, so noise can win — ` +
        (kind === 'images'
          ? 'bin time points or pixels before measuring, or use fewer, longer time points'
          : `use longer time windows (${param('windowFrames')}, ${param('stepFrames')}) or larger bins (${param('binSizeNm')})`),
    );
  }
  if (d.edgeFraction > EDGE_WARN_FRACTION) {
    warnings.push(
      `${pct(d.edgeFraction)} of the pairs peak at the border of the searched shifts, so the drift is probably larger than the search reaches — ` +
        (kind === 'images' ? `use a smaller ${param('corrWindow')}, or bin time points` : `use a smaller ${param('corrWindow')} or shorter time windows`),
    );
  }
  return warnings;
}
