/** Messages between the page and the worker that runs the numerics. */
import type { DriftTrace } from '../../src/core/types.js';
import type { DriftPlotData } from '../../src/plot/driftPlotSpec.js';
import type { DataKind, FormValues } from './params.js';

export type ToWorker = { type: 'open'; files: File[]; values: FormValues } | { type: 'run'; values: FormValues };

export interface Summary {
  kind: DataKind;
  /** The data file (the others are sidecars, a drift file to apply). */
  name: string;
  lines: string[];
  /** Files picked but not used, with why. */
  ignored: string[];
  /** A drift .npz picked to apply instead of measuring. */
  driftFile?: string;
  /** A recipe .yaml picked to run instead of the defaults (as `ccdrift run`). */
  recipe?: string;
}

/** A 2D image for display (row-major, x fastest). */
export interface Picture {
  width: number;
  height: number;
  data: Float32Array;
  /** What one pixel is, e.g. '10 nm'. */
  pixel: string;
}

export interface OutputFile {
  name: string;
  bytes: Uint8Array;
  mime: string;
}

export interface Result {
  kind: DataKind;
  reports: string[];
  /** The measured (or loaded) samples, and the interpolated drift at every frame. */
  samples: DriftTrace;
  perFrame: DriftTrace;
  is3d: boolean;
  /** The CLI's plot data (`--plot`): samples, curve with its ±2 sd band, extrapolated ends, trajectory. */
  plot: DriftPlotData;
  title: string;
  label: string;
  before: Picture;
  after: Picture;
  /** Tables: the densest square of the field at fine pixels, before and after, and where it is. */
  detail?: { before: Picture; after: Picture; where: string };
  corrected: OutputFile[];
  /** Further files a recipe saved (its outputs no module reads). */
  extra?: OutputFile[];
  driftNpz: OutputFile;
  perFrameCsv: OutputFile;
  picassoTxt?: OutputFile;
  /** The plan the app ran, as a recipe file (the CLI's --save-recipe): `ccdrift run` of it repeats the run. */
  recipe?: OutputFile;
  seconds: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'opened'; summary: Summary }
  | { type: 'stage'; stage: string; total: number }
  | { type: 'progress'; done: number }
  | { type: 'stageDone' }
  | { type: 'log'; line: string }
  | { type: 'result'; result: Result }
  | { type: 'error'; message: string };
