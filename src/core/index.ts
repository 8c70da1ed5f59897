/**
 * The numeric core, usable in Node and in a browser (no Node APIs): typed arrays in, typed
 * arrays out. Units, layouts and the drift sign convention: ./types.ts. This is the public API
 * (checked against etc/ccdrift-core.api.md by `npm test`): what a user needs to estimate,
 * interpolate and apply drift and to simulate data; the machinery under it (registration,
 * FFTs, histograms, splines) stays internal so it can change.
 */
export type * from './types.js';
export { UsageError, InputError, InsufficientDataError } from './errors.js';
// Memory checked before large allocations; set the limit to what the host can give.
export { setMemoryLimit, memoryLimit, MemoryLimitError } from './memoryLimit.js';
export type { MemoryLimit } from './memoryLimit.js';

// Localizations → drift (Locs_RCC) and images → drift (Image_RCC), on one registration core.
export { estimateDriftFromLocs } from './drift/estimateDriftFromLocs.js';
export type {
  LocsRccOptions,
  LocsRccResult,
  LocColumns,
  TimeWindow,
  LocInput,
  LocsDriftChoices,
  LocsDriftContext,
  LocsUncertainty,
} from './drift/estimateDriftFromLocs.js';
export type { PrecisionEstimate } from './drift/autoParameters.js';
export type { RefineResult } from './drift/refineDrift.js';
export type { PairDiagnostics } from './registration/pairDiagnostics.js';
export { estimateDriftAim, AIM_DEFAULTS } from './drift/estimateDriftAim.js';
export type { AimOptions, AimResult, AimSegment } from './drift/estimateDriftAim.js';
export { estimateDriftFiducial, FIDUCIAL_DEFAULTS } from './drift/estimateDriftFiducial.js';
export type { FiducialOptions, FiducialResult, FiducialMarker, FiducialPick } from './drift/estimateDriftFiducial.js';
export type { FiducialLocsOptions, AimLocsOptions, MarkerMethodResult } from './drift/estimateDriftByMarkers.js';
export { estimateDriftFromImages, IMAGE_RCC_DEFAULTS } from './drift/estimateDriftFromImages.js';
export type { ImageRccOptions, ImageRccResult } from './drift/estimateDriftFromImages.js';
export type { RccMethod, DriftSolution, RccResult } from './drift/solveDrift.js';
export { inlineExecutor } from './registration/correlationExecutor.js';
export type { CorrelationExecutor, CorrelationTask, CorrelationResult } from './registration/correlationExecutor.js';
// What a CorrelationTask carries (for writing another executor).
export type { RegistrationPlan } from './registration/registrar.js';
export type { BinnedPoints } from './registration/pointCorrelation.js';
export type { GridPreparation } from './registration/prepareGrid.js';
export type { BinGrid } from './histogram/binGrid.js';

// Drift interpolation (FITPACK smoothing splines) and correction.
export { createDriftInterpolator, sampleDriftPerFrame, DRIFT_INTERPOLATION_DEFAULTS, EXTRAPOLATION_MODES } from './drift/driftInterpolator.js';
export type { DriftInterpolatorOptions } from './drift/driftInterpolator.js';
export { applyDriftToTable } from './drift/applyDriftToTable.js';

// Image pre-processing and sub-pixel shifting.
export type { ClipFilterParams, BackgroundMode } from './image/clipFilter.js';
export type { PrefilteredStack } from './image/prefilterStack.js';
export type { DownsampleParams } from './image/downsample.js';
export type { ApplyDriftOptions, DriftCorrectedStack } from './image/applyDriftToStack.js';
export { prefilterStack } from './image/prefilterStack.js';
export { downsampleStack } from './image/downsample.js';
export { applyDriftToStack } from './image/applyDriftToStack.js';

// Simulated data with known drift.
export * from './simulate/index.js';
