/**
 * ccdrift as a Node library: the numeric core plus file formats, the recipe modules and the
 * worker-pool executor. In a browser, import `ccdrift/core` instead.
 *
 *   import { readTable, estimateDriftFromLocs, createWorkerExecutor } from 'ccdrift';
 */
export * from './core/index.js';
export * from './io/index.js';
export { readDriftNpz, writeDriftNpz } from './io/npz.js';
export { readPicks } from './io/picks.js';
export { writePerFrameDriftCsv, writePicassoDriftTxt } from './io/driftText.js';
export { readDriftFile, writeDriftFile } from './io/driftFiles.js';
export type { DriftFile, DriftWriteOptions } from './io/driftFiles.js';
export { writeDriftPlot } from './io/plotFile.js';
export { renderDriftPlotSvg } from './plot/driftPlot.js';
export type { DriftPlotData } from './plot/driftPlot.js';
export { createWorkerExecutor, defaultMemoryBudgetBytes } from './node/workerExecutor.js';
export { MODULES, lookupModule } from './recipes/registry.js';
export { parseRecipe } from './recipes/parseRecipe.js';
export { runRecipe } from './recipes/runRecipe.js';
export type { ModuleDecl, RunContext } from './recipes/declare.js';
export { VERSION } from './version.js';
