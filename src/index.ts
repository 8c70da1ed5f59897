/**
 * ccdrift as a Node library: the numeric core plus file formats, the recipe modules and the
 * worker-pool executor. In a browser, import `ccdrift/core` instead. The public API is what
 * this file exports (checked against etc/ccdrift.api.md by `npm test`).
 *
 *   import { readTable, estimateDriftFromLocs, createWorkerExecutor } from 'ccdrift';
 */
export * from './core/index.js';
export { readTable, writeTable, readImageStack, writeImageStack, registerTableFormat, registerImageFormat } from './io/index.js';
export type { TableFormat, ImageFormat, TableReadOptions, TableWriteOptions } from './io/index.js';
export { readDriftNpz, writeDriftNpz } from './io/npz.js';
export { readPicks } from './io/picks.js';
export { writePerFrameDriftCsv, writePicassoDriftTxt } from './io/driftText.js';
export { readDriftFile, writeDriftFile } from './io/driftFiles.js';
export type { DriftFile, DriftWriteOptions } from './io/driftFiles.js';
export { writeDriftPlot } from './io/plotFile.js';
export { renderDriftPlotSvg } from './plot/driftPlot.js';
export type { DriftPlotData } from './plot/driftPlot.js';
export type { DriftAxis, DriftPlotSeries } from './plot/driftPlotSpec.js';
export type { PicassoDriftOptions } from './io/driftText.js';
export { createWorkerExecutor, defaultMemoryBudgetBytes } from './node/workerExecutor.js';
export type { WorkerExecutorOptions } from './node/workerExecutor.js';
export { MODULES, lookupModule } from './recipes/registry.js';
export type { ModuleLookup } from './recipes/registry.js';
export { parseRecipe } from './recipes/parseRecipe.js';
export type { RecipePlan, ParseRecipeOptions } from './recipes/parseRecipe.js';
export { runRecipe } from './recipes/runRecipe.js';
export type { RecipeRunOptions, RecipeRunResult } from './recipes/runRecipe.js';
export { defineModule } from './recipes/declare.js';
export type {
  ModuleDecl,
  TypedModuleDecl,
  RunContext,
  ParamDecl,
  SlotDecl,
  SlotKind,
  SlotValues,
  ParamValues,
  SlotValuesOf,
  ModuleOutputs,
} from './recipes/declare.js';
export { VERSION } from './version.js';
