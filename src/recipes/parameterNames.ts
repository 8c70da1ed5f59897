/**
 * How a library option is called where the user typed it (issue 9: one validation rule, the
 * name as the user wrote it). Core messages name the option, marked (`tukeySize`,
 * core/messageParams.ts); a recipe calls it by the original module's parameter (`tukey_size`),
 * the command line by that parameter's flag (`--tukey-size`, ParamDecl.flag) or by a flag the
 * command declares itself (`--refine`, `--padding`), the web app by its form field (the flag).
 */
import { renderParams } from '../core/messageParams.js';
import { MODULES } from './registry.js';

/** Library option → the recipe parameter it comes from (the modules convert one into the other). */
export const RECIPE_PARAMETER_OF: Readonly<Record<string, string>> = {
  stepFrames: 'step',
  windowFrames: 'window',
  binSizeNm: 'binsize',
  flattenZ: 'flatten_z',
  tukeySize: 'tukey_size',
  shiftMaxNm: 'shift_max',
  corrWindow: 'corr_window',
  method: 'method',
  refine: 'refine',
  breaks: 'breaks',
  paddingMultiplier: 'padding_multipler',
  medianFilterSize: 'median_filter_size',
  thresholdLower: 'threshold_lower',
  clipToLower: 'clip_to_lower',
  thresholdUpper: 'threshold_upper',
  clipToUpper: 'clip_to_upper',
  background: 'background',
  // Locs_Fiducial, Locs_AIM
  picks: 'picks',
  radiusNm: 'radius',
  minFraction: 'min_fraction',
  sampleFrames: 'sample_frames',
  segmentFrames: 'segment',
  intersectDistanceNm: 'intersect_distance',
  maxDriftNm: 'max_drift',
  // Drift_Interpolate
  degree: 'degree_of_spline',
  smoothing: 'smoothing_factor',
  extrapolation: 'extrapolation',
};

/**
 * Options the commands take under a flag of their own rather than a module's: `locs` declares
 * `--refine` and `--breaks` (Locs_RCC parameters without a flag), `images` and `apply` call
 * Image_Post_Shift's padding_multipler `--padding` and give the stack's voxel size with
 * `--voxel-size` (src/cli/commands; the web form has the same fields, web/src/params.ts).
 */
export const COMMAND_FLAG_OF: Readonly<Record<string, string>> = {
  refine: '--refine',
  breaks: '--breaks',
  paddingMultiplier: '--padding',
  voxelSizeNm: '--voxel-size',
  // Reading files (src/io): the table and pixel-size options of readTable and the drift readers.
  pixelSizeNm: '--pixel-size',
  overridePixelSize: '--force',
  table: '--table',
};

/** The flag of a recipe parameter, as the modules declare it (first module that exposes one). */
function flagOf(recipeParam: string): string | undefined {
  for (const decl of MODULES) {
    const flag = decl.params[recipeParam]?.flag;
    if (flag) return `--${flag}`;
  }
  return undefined;
}

/** The flags `option` goes by, the command's own first (`--padding`, then Image_Post_Shift's `--padding-multiplier`). */
export function flagsOf(option: string): string[] {
  const recipe = RECIPE_PARAMETER_OF[option];
  const flags = [COMMAND_FLAG_OF[option], recipe === undefined ? undefined : flagOf(recipe)];
  return [...new Set(flags.filter((f): f is string => f !== undefined))];
}

/** Options `ccdrift run` takes as flags of its own (reading the input), not as recipe parameters. */
const RUN_FLAG_OF: Readonly<Record<string, string>> = {
  pixelSizeNm: '--pixel-size',
  voxelSizeNm: '--voxel-size',
  table: '--table',
  overridePixelSize: '--force',
};

/** How the user of a front end typed options: as recipe parameters (`ccdrift run`), or as command-line flags. */
export type NameStyle = 'recipe' | 'flag';

/** `option` as a user of `style` wrote it, or undefined when that user has no name for it. */
function nameIn(option: string, style: NameStyle): string | undefined {
  return style === 'recipe' ? (RECIPE_PARAMETER_OF[option] ?? RUN_FLAG_OF[option]) : flagsOf(option)[0];
}

/** `option` as a user of `style` wrote it (the option itself when that user has no name for it). */
export function parameterNameFor(option: string, style: NameStyle): string {
  return nameIn(option, style) ?? option;
}

/**
 * A core message (or warning) as a user of `style` reads it: each marked option renamed
 * (`binSizeNm` → `--binsize` or `binsize`); an option that user has no name for stays marked.
 */
export function renderParamsFor(text: string, style: NameStyle): string {
  return renderParams(text, (option) => nameIn(option, style));
}
