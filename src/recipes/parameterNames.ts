/**
 * How a library option is called where the user typed it (issue 9: one validation rule, the
 * name as the user wrote it). Core checks name the option (`tukeySize`, core/parameters.ts);
 * a recipe calls it by the original module's parameter (`tukey_size`), the command line by that
 * parameter's flag (`--tukey-size`, ParamDecl.flag).
 */
import { MODULES } from './registry.js';

/** Library option → the recipe parameter it comes from (the modules convert one into the other). */
export const RECIPE_PARAMETER_OF: Readonly<Record<string, string>> = {
  stepFrames: 'step',
  windowFrames: 'window',
  binSizeNm: 'binsize',
  tukeySize: 'tukey_size',
  shiftMaxNm: 'shift_max',
  corrWindow: 'corr_window',
  method: 'method',
  paddingMultiplier: 'padding_multipler',
  medianFilterSize: 'median_filter_size',
  thresholdLower: 'threshold_lower',
  clipToLower: 'clip_to_lower',
  thresholdUpper: 'threshold_upper',
  clipToUpper: 'clip_to_upper',
  background: 'background',
};

/** The flag of a recipe parameter, as the modules declare it (first module that exposes one). */
function flagOf(recipeParam: string): string | undefined {
  for (const decl of MODULES) {
    const flag = decl.params[recipeParam]?.flag;
    if (flag) return `--${flag}`;
  }
  return undefined;
}

/** `option` as a user of `style` wrote it: a recipe parameter, or a command-line flag. */
export function parameterNameFor(option: string, style: 'recipe' | 'flag'): string {
  const recipe = RECIPE_PARAMETER_OF[option];
  if (!recipe) return option;
  return style === 'recipe' ? recipe : (flagOf(recipe) ?? recipe);
}
