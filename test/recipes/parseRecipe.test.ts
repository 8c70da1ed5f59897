import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ModuleDecl } from '../../src/recipes/declare.js';
import { formatRecipe, parseRecipe } from '../../src/recipes/parseRecipe.js';
import { RecipeError, type RecipeProblem } from '../../src/recipes/recipeErrors.js';
import { findModule, lookupModule, UnknownModuleError } from '../../src/recipes/registry.js';
import { fixturesDir } from '../helpers/fixtures.js';

const recipe = (name: string) => readFileSync(join(fixturesDir, 'recipes', name), 'utf8');

/** The problems a recipe is rejected with (fails the test when it is accepted). */
function problemsOf(text: string, initial = ['Localizations']): RecipeProblem[] {
  try {
    parseRecipe(text, initial);
  } catch (err) {
    expect(err).toBeInstanceOf(RecipeError);
    return (err as RecipeError).problems;
  }
  throw new Error('the recipe was accepted');
}

describe('the original example recipes', () => {
  it('correct_drift_locs.yaml: full names, slots and parameters as written, defaults filled in', () => {
    const plan = parseRecipe(recipe('correct_drift_locs.yaml'), ['Localizations']);
    expect(plan.steps.map((s) => s.decl.name)).toEqual([
      'localisations.ProcessColour',
      'tablefilters.FilterTable',
      'chung_cc.Locs_RCC',
      'chung_cc.Drift_Interpolate',
      'chung_cc.Locs_Post_Shift',
      'chung_cc.Drift_Save',
    ]);
    const rcc = plan.steps[2];
    expect(rcc.item).toBe(3);
    expect(rcc.inputs).toEqual({ input_for_correction: 'filtered_localizations' });
    expect(rcc.outputs.output_drift).toBe('drift_raw');
    expect(rcc.params).toMatchObject({
      binsize: 20,
      flatten_z: true,
      step: 1000,
      window: 1000,
      multiprocessing: true,
      method: 'RCC',
      shift_max: 5,
      corr_window: 5,
    });
    expect(plan.steps[1].params.filters).toEqual({ A: [5, 20000], error_x: [0, 30], error_y: [0, 30], sig: [95, 200] });
    expect(plan.steps[5].params.save_path).toBe('drift');
    expect(plan.consumers.get('drift_raw')!.map((s) => s.item)).toEqual([4, 6]);
  });

  it('correct_drift_locs_load.yaml parses with the table slot', () => {
    const plan = parseRecipe(recipe('correct_drift_locs_load.yaml'), ['Localizations']);
    expect(plan.steps.map((s) => s.item)).toEqual([1, 2, 3, 4]);
    expect(plan.steps[2].params.load_paths).toEqual(['drift.npz']);
  });

  it('the normalised recipe text parses back to the same plan', () => {
    const plan = parseRecipe(recipe('correct_drift_locs.yaml'), ['Localizations']);
    const again = parseRecipe(formatRecipe(plan), ['Localizations']);
    expect(again.steps.map((s) => [s.decl.name, s.inputs, s.outputs, s.params])).toEqual(plan.steps.map((s) => [s.decl.name, s.inputs, s.outputs, s.params]));
  });
});

describe('execution order follows data, not the file', () => {
  it('a consumer written before its producer runs after it; independent items keep file order', () => {
    const text = `
- Locs_Post_Shift: {input_localizations: filtered, input_drift_interpolator: interp, output_name: corrected}
- Drift_Interpolate: {input_drift_raw: raw, output_drift_interpolator: interp, output_drift_plot: p2}
- Locs_RCC: {input_for_correction: filtered, output_drift: raw, output_drift_plot: p1}
- FilterTable: {inputName: Localizations, outputName: filtered, filters: {A: [0, 10]}}
`;
    const plan = parseRecipe(text, ['Localizations']);
    expect(plan.steps.map((s) => s.item)).toEqual([4, 3, 2, 1]);
  });
});

describe('module names', () => {
  it('accepts full names, short names and other letter case when unambiguous', () => {
    expect(findModule('chung_cc.Locs_RCC').name).toBe('chung_cc.Locs_RCC');
    expect(findModule('Locs_RCC').name).toBe('chung_cc.Locs_RCC');
    expect(findModule('locs_rcc').name).toBe('chung_cc.Locs_RCC');
    expect(findModule('TABLEFILTERS.FILTERTABLE').name).toBe('tablefilters.FilterTable');
  });

  it('refuses a name that matches several modules', () => {
    const mk = (name: string): ModuleDecl => ({ name, summary: '', inputs: {}, outputs: {}, params: {}, run: async () => ({}) });
    const mods = [mk('a.Foo'), mk('b.Foo'), mk('c.Bar'), mk('d.bar')];
    expect(lookupModule('Foo', mods)).toMatchObject({ kind: 'ambiguous-module' });
    expect(lookupModule('BAR', mods)).toMatchObject({ kind: 'ambiguous-module' });
    expect(lookupModule('c.Bar', mods).decl?.name).toBe('c.Bar');
    expect(lookupModule('Bar', mods).decl?.name).toBe('c.Bar');
  });

  it('an unknown module gets a "did you mean"', () => {
    expect(() => findModule('Locs_RC')).toThrow(UnknownModuleError);
    expect(() => findModule('Locs_RC')).toThrow(/unknown module 'Locs_RC'.*did you mean 'Locs_RCC'/);
    expect(() => findModule('chung_cc.Drift_Interpolat')).toThrow(/did you mean 'chung_cc.Drift_Interpolate'/);
  });
});

describe('every problem is reported with its item number before anything runs', () => {
  it('unknown module, unknown parameter, wrong type and missing input together', () => {
    const text = `
- chung_cc.Locs_RCCC: {input_for_correction: Localizations}
- chung_cc.Drift_Interpolate: {input_drift_raw: drift_raw, smoothing_factr: 3}
- chung_cc.Locs_Post_Shift: {input_localizations: Localizations, input_drift_interpolator: interp}
- tablefilters.FilterTable: {inputName: Localizations, filters: {A: [5, "x"]}}
- Locs_RCC: {step: ten, output_drift: other}
`;
    const problems = problemsOf(text);
    const byItem = (i: number) => problems.filter((p) => p.item === i);
    expect(byItem(1)).toEqual([expect.objectContaining({ kind: 'unknown-module', message: expect.stringMatching(/did you mean 'chung_cc.Locs_RCC'/) })]);
    expect(
      byItem(2)
        .map((p) => p.kind)
        .sort(),
    ).toEqual(['missing-input', 'unknown-parameter']);
    expect(byItem(2).find((p) => p.kind === 'unknown-parameter')!.message).toMatch(/unknown parameter 'smoothing_factr'; did you mean 'smoothing_factor'/);
    expect(byItem(2).find((p) => p.kind === 'missing-input')!.message).toMatch(
      /input_drift_raw: 'drift_raw' is not produced by any module; available: Localizations, /,
    );
    expect(byItem(3)[0].message).toMatch(/input_drift_interpolator: 'interp' is not produced by any module/);
    expect(byItem(4)[0]).toMatchObject({ kind: 'invalid-value', message: expect.stringMatching(/filters\.A\.1: .*expected number/) });
    expect(byItem(5)[0]).toMatchObject({ kind: 'invalid-value', message: expect.stringMatching(/parameter step: .*"ten"/) });
  });

  it('the error text lists each problem with item number and module', () => {
    expect(() => parseRecipe('- Locs_RCC: {binsize: -3}\n- Nope: {}\n', ['Localizations'], { source: 'my.yaml' })).toThrow(
      /my.yaml has 2 problems:\n {2}item 1 \(Locs_RCC\): parameter binsize: .*\n {2}item 2 \(Nope\): unknown module 'Nope'/,
    );
  });

  it('the image example names the missing pre-filter output with the available slots', () => {
    // Without the pre-filter item, nothing produces clipped_images.
    const text = recipe('correct_drift_images.yaml').replace(/- chung_cc.Image_Pre_Clip&Filter:[\s\S]*$/, '');
    const problems = problemsOf(text, ['input']);
    const missing = problems.find((p) => p.kind === 'missing-input')!;
    expect(missing.item).toBe(1);
    expect(missing.message).toMatch(/input_image: 'clipped_images' is not produced by any module; available: input, /);
  });

  it('a dependency cycle names its items and slots', () => {
    const text = `
- Drift_Interpolate: {input_drift_raw: a, output_drift_interpolator: b, output_drift_plot: p1}
- Locs_Post_Shift: {input_localizations: Localizations, input_drift_interpolator: b, output_name: c}
- Locs_RCC: {input_for_correction: c, output_drift: a, output_drift_plot: p2}
`;
    const [p] = problemsOf(text);
    expect(p.kind).toBe('cycle');
    expect(p.message).toMatch(/dependency cycle: item \d \(\w+\) needs '\w' from item \d/);
    for (const slot of ['a', 'b', 'c']) expect(p.message).toContain(`'${slot}'`);
  });

  it('a slot produced twice, or over the loaded data, is refused', () => {
    const text = `
- ProcessColour: {input: Localizations, output: Localizations}
- FilterTable: {inputName: Localizations, outputName: f}
- FilterTable: {inputName: Localizations, outputName: f}
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.item, p.kind])).toEqual([
      [1, 'duplicate-output'],
      [3, 'duplicate-output'],
    ]);
    expect(problems[1].message).toMatch(/'f' is already produced by item 2/);
  });

  it('YAML errors and non-list documents are syntax problems', () => {
    expect(problemsOf('- Locs_RCC: {step: [1, 2\n')[0]).toMatchObject({ kind: 'syntax', message: expect.stringMatching(/not valid YAML at line/) });
    expect(problemsOf('Locs_RCC: {}\n')[0].message).toMatch(/a recipe is a YAML list/);
    expect(problemsOf('- Locs_RCC: {}\n  Drift_Save: {}\n')[0]).toMatchObject({ kind: 'syntax', item: 1 });
  });

  it('slots of an item whose module is unknown are not reported again as missing', () => {
    const problems = problemsOf('- Mystery: {outputName: m}\n- FilterTable: {inputName: m}\n');
    expect(problems.map((p) => p.kind)).toEqual(['unknown-module']);
  });

  it('compatibility parameters are accepted, and modules can be declared with custom schemas', () => {
    const plan = parseRecipe('- Locs_RCC: {multiprocessing: true, cache_fft: "", input_for_mapping: x}\n', ['Localizations']);
    expect(plan.steps[0].params.multiprocessing).toBe(true);
    const custom: ModuleDecl = {
      name: 'x.Y',
      summary: '',
      inputs: {},
      outputs: { out: { kind: 'any', default: 'o', description: '' } },
      params: { n: { schema: z.number().int(), default: 1, description: '' } },
      run: async () => ({}),
    };
    expect(() => parseRecipe('- Y: {n: 1.5}\n', [], { modules: [custom] })).toThrow(/parameter n: /);
  });
});
