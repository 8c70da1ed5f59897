/**
 * The numeric core, usable in Node and in a browser (no Node APIs): typed arrays in, typed
 * arrays out. Units, layouts and the drift sign convention: ./types.ts.
 */
export type * from './types.js';
export { UsageError, InputError, InsufficientDataError } from './errors.js';
// Memory checked before large allocations; set the limit to what the host can give.
export { setMemoryLimit, memoryLimit, checkAllocation, MemoryLimitError, formatBytes } from './memoryLimit.js';
export { checkPlausibleLocs, MAX_ABS_COORDINATE_NM, MAX_ABS_FRAME } from './drift/plausibleLocs.js';

// Localizations → drift (Locs_RCC) and images → drift (Image_RCC), on one registration core.
export { estimateDriftFromLocs, validateLocsRccOptions, makeTimeWindows, SPARSE_WINDOW_FRACTION } from './drift/estimateDriftFromLocs.js';
export type { LocsRccOptions, LocsRccResult, LocColumns, TimeWindow } from './drift/estimateDriftFromLocs.js';
export { estimateDriftAim, AIM_DEFAULTS } from './drift/estimateDriftAim.js';
export type { AimOptions, AimResult } from './drift/estimateDriftAim.js';
export { estimateDriftFiducial, FIDUCIAL_DEFAULTS } from './drift/estimateDriftFiducial.js';
export type { FiducialOptions, FiducialResult, FiducialMarker, FiducialPick } from './drift/estimateDriftFiducial.js';
export type { FiducialLocsOptions, AimLocsOptions, MarkerMethodResult } from './drift/estimateDriftByMarkers.js';
export { estimateDriftFromImages } from './drift/estimateDriftFromImages.js';
export type { ImageRccOptions, ImageRccResult } from './drift/estimateDriftFromImages.js';
export { buildPairs, solveDrift } from './drift/solveDrift.js';
export type { RccMethod, DriftSolution, RccResult } from './drift/solveDrift.js';
export { createRegistrationPlan, Registrar } from './registration/registrar.js';
export type { RegistrationPlan } from './registration/registrar.js';
export { findPeak } from './registration/findPeak.js';
export { inlineExecutor } from './registration/correlationExecutor.js';
export type { CorrelationExecutor, CorrelationTask, CorrelationResult } from './registration/correlationExecutor.js';

// Drift interpolation (FITPACK smoothing splines) and correction.
export { createDriftInterpolator, sampleDriftPerFrame, DRIFT_INTERPOLATION_DEFAULTS, EXTRAPOLATION_MODES } from './drift/driftInterpolator.js';
export type { DriftInterpolatorOptions } from './drift/driftInterpolator.js';
export { fitSmoothingSpline } from './spline/fitSmoothingSpline.js';
export { evaluateSpline } from './spline/evaluateSpline.js';
export { applyDriftToTable } from './drift/applyDriftToTable.js';

// Image pre-processing and sub-pixel shifting.
export { clipAndFilterFrame, medianFilter2d } from './image/clipFilter.js';
export type { ClipFilterParams } from './image/clipFilter.js';
export { prefilterStack } from './image/prefilterStack.js';
export { downsampleStack } from './image/downsample.js';
export { applyDriftToStack } from './image/applyDriftToStack.js';
export { shiftFrame, createFourierShifter, FourierShifter } from './shift/fourierShift.js';

// FFT, histograms, windows.
export { loadPffft, fftSize } from './fft/pffft.js';
export { RealFftNd } from './fft/realFftNd.js';
export { computeBinGrid, histogramInto } from './histogram/binGrid.js';
export { tukeyWindow } from './histogram/tukey.js';

// Simulated data with known drift.
export * from './simulate/index.js';
