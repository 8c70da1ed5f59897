/**
 * Issue 9 req 3: the checks several steps share live in one place (core/parameters.ts), fail
 * with a UsageError (a RangeError) that names the library option, and every front end shows
 * that name as its user typed it: the flag on the command line, the parameter in a recipe.
 */
import { describe, expect, it } from 'vitest';
import { UsageError, InputError } from '../../src/core/errors.js';
import { checkCorrWindow, checkPadding, checkRccMethod, checkShiftMax, checkTukeySize } from '../../src/core/parameters.js';
import { estimateDriftFromLocs } from '../../src/core/drift/estimateDriftFromLocs.js';
import { estimateDriftFromImages } from '../../src/core/drift/estimateDriftFromImages.js';
import { tukeyWindow } from '../../src/core/histogram/tukey.js';
import { simulateLocalizations } from '../../src/core/simulate/simulateLocalizations.js';
import { simulateImageStack } from '../../src/core/simulate/simulateImageStack.js';
import { validateClipFilterParams } from '../../src/core/image/clipFilter.js';
import { prefilterStack } from '../../src/core/image/prefilterStack.js';
import { checkFourierShiftMemory } from '../../src/core/shift/fourierShift.js';
import { MemoryLimitError } from '../../src/core/memoryLimit.js';
import { describeError } from '../../src/cli/errorMessage.js';
import { RecipeStepError } from '../../src/recipes/recipeErrors.js';

function caught(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    return e as UsageError;
  }
  throw new Error('expected a throw');
}

describe('shared parameter checks', () => {
  it('fail with a UsageError that is a RangeError and names the option', () => {
    for (const [f, param] of [
      [() => checkTukeySize(1.5), 'tukeySize'],
      [() => checkShiftMax(-1), 'shiftMaxNm'],
      [() => checkCorrWindow(2.5), 'corrWindow'],
      [() => checkRccMethod('XCC'), 'method'],
      [() => checkPadding(Number.NaN), 'paddingMultiplier'],
    ] as const) {
      const e = caught(f);
      expect(e).toBeInstanceOf(UsageError);
      expect(e).toBeInstanceOf(RangeError);
      expect(e.param).toBe(param);
      expect(e.message.startsWith(`\`${param}\` must be`)).toBe(true);
    }
    expect(() => checkTukeySize(0)).not.toThrow();
    expect(() => checkShiftMax('auto')).not.toThrow();
    expect(() => checkCorrWindow(-1)).not.toThrow();
  });

  it('Locs_RCC, Image_RCC and the Tukey window give the same error for the same value', async () => {
    const sim = simulateLocalizations({ locs: 2000, frames: 2000, seed: 1 });
    const { table } = sim;
    const cols = { x: table.columns.get('x')!, y: table.columns.get('y')!, t: table.columns.get('t')! };
    const locs = (await estimateDriftFromLocs(cols, { tukeySize: 2 }).catch((e: unknown) => e)) as UsageError;
    const stack = simulateImageStack({ frames: 3, width: 64, height: 64, seed: 1, driftAmplitudeNm: 20 }).stack;
    const images = (await estimateDriftFromImages(stack, { shiftMaxNm: -3 }).catch((e: unknown) => e)) as UsageError;
    const window = caught(() => tukeyWindow(8, 2));
    expect(locs).toBeInstanceOf(UsageError);
    expect(locs.message).toBe(window.message);
    expect(images).toBeInstanceOf(UsageError);
    expect(images.param).toBe('shiftMaxNm');
  });
});

describe('the CLI shows the parameter as its user typed it', () => {
  const err = new UsageError('`tukeySize` must be between 0 and 1, got 2', { param: 'tukeySize' });
  it('a flag on the command line, the recipe parameter in `ccdrift run`', () => {
    expect(describeError(err, { command: 'locs' })).toEqual({ message: '--tukey-size must be between 0 and 1, got 2', exitCode: 2 });
    expect(describeError(err, { command: 'run' })).toEqual({ message: 'tukey_size must be between 0 and 1, got 2', exitCode: 2 });
  });
  it('a recipe item that failed keeps its error as the cause, and the cause decides the exit code', () => {
    const input = new InputError('cell.hdf: no column x');
    const wrapped = new RecipeStepError('item 2 (chung_cc.Locs_RCC)', input);
    expect(wrapped.cause).toBe(input);
    expect(describeError(wrapped, { command: 'run' })).toEqual({ message: 'item 2 (chung_cc.Locs_RCC): cell.hdf: no column x', exitCode: 1 });
    expect(describeError(new RecipeStepError('item 1 (chung_cc.Locs_RCC)', err), { command: 'run' })).toEqual({
      message: 'item 1 (chung_cc.Locs_RCC): tukey_size must be between 0 and 1, got 2',
      exitCode: 2,
    });
  });
});

describe('the clip filter and the Fourier shift name their options, not the recipe parameters', () => {
  const params = {
    medianFilterSize: 1,
    thresholdLower: 0,
    clipToLower: 0,
    thresholdUpper: 65535,
    clipToUpper: 0,
    tukeySize: 0.25,
    background: 'auto' as const,
  };
  const stack = simulateImageStack({ frames: 2, width: 16, height: 16, seed: 1, driftAmplitudeNm: 0 }).stack;

  it('a library caller sees the option (medianFilterSize), a recipe user median_filter_size, a command-line user --median-filter-size', () => {
    for (const [bad, param, recipe, flag] of [
      [{ medianFilterSize: 2.5 }, 'medianFilterSize', 'median_filter_size', '--median-filter-size'],
      [{ thresholdLower: Number.NaN }, 'thresholdLower', 'threshold_lower', '--threshold-lower'],
      [{ clipToUpper: Number.NaN }, 'clipToUpper', 'clip_to_upper', '--clip-to-upper'],
      [{ tukeySize: 1.5 }, 'tukeySize', 'tukey_size', '--tukey-size'],
      [{ background: 'flat' as never }, 'background', 'background', '--background'],
    ] as const) {
      const e = caught(() => prefilterStack(stack, { ...params, ...bad }));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.param).toBe(param);
      expect(e.message.startsWith(`\`${param}\` must be`)).toBe(true);
      expect(e.message).not.toMatch(/_/);
      const wrapped = new RecipeStepError('item 1 (chung_cc.Image_Pre_Clip&Filter)', e);
      expect(describeError(wrapped, { command: 'run' }).message).toBe(`item 1 (chung_cc.Image_Pre_Clip&Filter): ${e.message.replace(`\`${param}\``, recipe)}`);
      expect(describeError(e, { command: 'images' })).toEqual({ message: e.message.replace(`\`${param}\``, flag), exitCode: 2 });
    }
    // The wrong kind of value (only a library caller can pass one) is a TypeError naming the option.
    expect(() => validateClipFilterParams({ ...params, clipToLower: '5' as never })).toThrow(TypeError);
    expect(() => validateClipFilterParams({ ...params, clipToLower: '5' as never })).toThrow(/^`clipToLower` must be a number/);
  });

  it('a padding too large for memory names paddingMultiplier; the CLI shows --padding, a recipe padding_multipler', () => {
    let e: MemoryLimitError | undefined;
    try {
      checkFourierShiftMemory({ width: 64, height: 64, depth: 1 }, 1e6);
    } catch (err) {
      e = err as MemoryLimitError;
    }
    expect(e).toBeInstanceOf(MemoryLimitError);
    expect(e!.param).toBe('paddingMultiplier');
    expect(e!.message).toMatch(/with `paddingMultiplier` 1000000 on every side\) would need .*give a smaller `paddingMultiplier` \(the default is 1\)$/);
    expect(e!.message).not.toMatch(/padding_multipler|--padding/);
    const cli = describeError(e, { command: 'images' });
    expect(cli.exitCode).toBe(1);
    expect(cli.message).toBe(e!.message.replaceAll('`paddingMultiplier`', '--padding'));
    expect(describeError(e, { command: 'run' }).message).toBe(e!.message.replaceAll('`paddingMultiplier`', 'padding_multipler'));
  });
});
