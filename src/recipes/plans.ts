/**
 * The plans of modules the direct front ends run: `ccdrift locs`, `images` and `apply` and the
 * browser app build them here from their parameters and run them with runRecipe, the runner of
 * `ccdrift run` (issue 9: one runner for every front end). A plan written as YAML (formatRecipe,
 * recipeFileText) is a recipe `ccdrift run` repeats. No file access here: this runs in browsers.
 */
import type { ModuleDecl, RunContext } from './declare.js';
import { buildPlan, type PlanItem, type RecipePlan } from './buildPlan.js';
import { formatRecipe } from './parseRecipe.js';
import { RecipeStepError } from './recipeErrors.js';
import { runRecipe, type RecipeRunOptions, type RecipeRunResult } from './runRecipe.js';
import { driftInterpolate } from './modules/driftInterpolate.js';
import { driftLoadInterpolate } from './modules/driftLoadInterpolate.js';
import { imagePostShift } from './modules/imagePostShift.js';
import { imagePreClipFilter } from './modules/imagePreClipFilter.js';
import { imagePreDownsample } from './modules/imagePreDownsample.js';
import { imageRcc } from './modules/imageRcc.js';
import { locsAim } from './modules/locsAim.js';
import { locsFiducial } from './modules/locsFiducial.js';
import { locsPostShift } from './modules/locsPostShift.js';
import { locsRcc } from './modules/locsRcc.js';

/** Slot names of the loaded data, as PYME names them (and `ccdrift run` fills them). */
export const TABLE_SLOT = 'Localizations';
export const IMAGE_SLOT = 'input';

/** A module's parameters as a front end gathered them (validated again by buildPlan). */
type Params = Record<string, unknown>;

/** Where a locs plan leaves its results (a saved recipe names them so too). */
export const LOCS_SLOTS = { drift: 'drift', interpolator: 'drift_interpolator', corrected: 'corrected_localizations' } as const;

/** The estimator modules a locs plan may run (their reports are the command's result lines). */
export const LOCS_ESTIMATORS: readonly ModuleDecl[] = [locsRcc, locsAim, locsFiducial];

/**
 * The modules `locs` runs: the method's (Locs_RCC for RCC, MCC and DCC; Locs_AIM; Locs_Fiducial;
 * with `then` 'fiducial', Locs_Fiducial after the first method's drift), Drift_Interpolate,
 * Locs_Post_Shift. Parameters left out take the modules' defaults. `tableSlot`: the table
 * Locs_Post_Shift corrects (the fiducial module's flags the markers' rows).
 */
export function buildLocsPlan(
  method: string,
  then: string | undefined,
  params: { rcc?: Params; fiducial?: Params; aim?: Params; spline?: Params },
): { plan: RecipePlan; tableSlot: string } {
  const items: PlanItem[] = [];
  const fiducial = method === 'fiducial' || then === 'fiducial';
  const measured = fiducial && method !== 'fiducial' ? 'coarse_drift' : LOCS_SLOTS.drift;
  if (method === 'AIM') items.push({ module: locsAim, params: params.aim, outputs: { output_drift: measured, output_drift_plot: 'aim_drift_plot' } });
  else if (method !== 'fiducial') items.push({ module: locsRcc, params: params.rcc, outputs: { output_drift: measured, output_drift_plot: 'rcc_drift_plot' } });
  if (fiducial) {
    items.push({
      module: locsFiducial,
      inputs: method === 'fiducial' ? {} : { input_drift: measured },
      params: params.fiducial,
      outputs: { output_drift: LOCS_SLOTS.drift, output_drift_plot: 'fiducial_drift_plot' },
    });
  }
  const tableSlot = fiducial ? locsFiducial.outputs.output_localizations.default : TABLE_SLOT;
  items.push(
    {
      module: driftInterpolate,
      inputs: { input_drift_raw: LOCS_SLOTS.drift },
      params: params.spline,
      outputs: { output_drift_interpolator: LOCS_SLOTS.interpolator },
    },
    {
      module: locsPostShift,
      inputs: { input_localizations: tableSlot, input_drift_interpolator: LOCS_SLOTS.interpolator },
      outputs: { output_name: LOCS_SLOTS.corrected },
    },
  );
  return { plan: buildPlan(items, [TABLE_SLOT], { source: 'ccdrift locs' }), tableSlot };
}

/** Where an images plan leaves its results. */
export const IMAGES_SLOTS = { drift: 'drift', interpolator: 'drift_interpolator', corrected: 'drift_corrected_image' } as const;

/** Do Image_Pre_Downsample's parameters change the stack (a bin or a crop)? Otherwise `images` leaves the module out. */
export function downsampleChanges(params: { binsize: readonly number[]; x_start: number; x_end: number; y_start: number; y_end: number }): boolean {
  return params.binsize.some((b) => b !== 1) || params.x_start !== 0 || params.y_start !== 0 || params.x_end !== -1 || params.y_end !== -1;
}

/**
 * The modules `images` runs: Image_Pre_Clip&Filter and Image_Pre_Downsample when asked for,
 * Image_RCC on their output, Drift_Interpolate, and Image_Post_Shift of the original stack.
 */
export function buildImagesPlan(params: { filter?: Params; downsample?: Params; rcc: Params; spline: Params; shift: Params }): RecipePlan {
  const items: PlanItem[] = [];
  // Measured on the pre-filtered (and optionally binned) stack; applied to the original.
  let measured = IMAGE_SLOT;
  if (params.filter) {
    items.push({ module: imagePreClipFilter, inputs: { input_name: measured }, params: params.filter, outputs: { output_name: 'clipped_images' } });
    measured = 'clipped_images';
  }
  if (params.downsample) {
    items.push({ module: imagePreDownsample, inputs: { input_name: measured }, params: params.downsample, outputs: { output_name: 'downsampled_images' } });
    measured = 'downsampled_images';
  }
  items.push(
    {
      module: imageRcc,
      inputs: { input_image: measured },
      params: params.rcc,
      outputs: { output_drift: IMAGES_SLOTS.drift, output_drift_plot: 'rcc_drift_plot' },
    },
    {
      module: driftInterpolate,
      inputs: { input_drift_raw: IMAGES_SLOTS.drift },
      params: params.spline,
      outputs: { output_drift_interpolator: IMAGES_SLOTS.interpolator },
    },
    {
      module: imagePostShift,
      inputs: { input_image: IMAGE_SLOT, input_drift_interpolator: IMAGES_SLOTS.interpolator },
      params: params.shift,
      outputs: { outputName: IMAGES_SLOTS.corrected },
    },
  );
  return buildPlan(items, [IMAGE_SLOT], { source: 'ccdrift images' });
}

/** Where an apply plan leaves its results. */
export const APPLY_SLOTS = { interpolator: 'drift_interpolator', corrected: 'corrected' } as const;

/**
 * The modules `apply` runs: Drift_Load_Interpolate of the drift files (`load`), then
 * Image_Post_Shift (`image`, with `shift`'s parameters) or Locs_Post_Shift of the loaded data.
 */
export function buildApplyPlan(params: { image: boolean; load: Params; shift?: Params }): { plan: RecipePlan; dataSlot: string } {
  const dataSlot = params.image ? IMAGE_SLOT : TABLE_SLOT;
  const plan = buildPlan(
    [
      {
        module: driftLoadInterpolate,
        inputs: { input_dummy: dataSlot },
        params: params.load,
        outputs: { output_drift_interpolator: APPLY_SLOTS.interpolator },
      },
      params.image
        ? {
            module: imagePostShift,
            inputs: { input_image: dataSlot, input_drift_interpolator: APPLY_SLOTS.interpolator },
            params: params.shift,
            outputs: { outputName: APPLY_SLOTS.corrected },
          }
        : {
            module: locsPostShift,
            inputs: { input_localizations: dataSlot, input_drift_interpolator: APPLY_SLOTS.interpolator },
            outputs: { output_name: APPLY_SLOTS.corrected },
          },
    ],
    [dataSlot],
    { source: 'ccdrift apply' },
  );
  return { plan, dataSlot };
}

/**
 * Run a front end's plan with runRecipe. A module's failure is the module's own error, as the
 * command said it before it ran through the recipe runner (the command has no recipe items to name).
 */
export async function runCommandPlan(plan: RecipePlan, initial: Record<string, unknown>, ctx: RunContext, options: RecipeRunOptions): Promise<RecipeRunResult> {
  try {
    return await runRecipe(plan, initial, ctx, options);
  } catch (err) {
    if (err instanceof RecipeStepError) throw err.cause;
    throw err;
  }
}

/**
 * A plan as the text of a recipe file, headed by what ran it and how to run it again.
 * `path`: the recipe's file name; `dataSlot`: where `ccdrift run` puts the input; `results`
 * names the slots holding the results.
 */
export function recipeFileText(
  plan: RecipePlan,
  { ranBy, path, dataSlot, results }: { ranBy: string; path: string; dataSlot: string; results: string },
): string {
  return (
    `# The modules ${ranBy} ran, every parameter given (defaults included).\n` +
    `# Run them again: ccdrift run ${path} <input> [-o DIR] [--save SLOT=PATH]\n` +
    `# The input is the slot '${dataSlot}'; ${results}.\n` +
    formatRecipe(plan)
  );
}
