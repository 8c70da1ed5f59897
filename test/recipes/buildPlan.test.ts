import { describe, expect, it } from 'vitest';
import { buildPlan, formatRecipe, parseRecipe, type PlanItem } from '../../src/recipes/parseRecipe.js';
import { RecipeError } from '../../src/recipes/recipeErrors.js';
import { locsRcc } from '../../src/recipes/modules/locsRcc.js';
import { driftInterpolate } from '../../src/recipes/modules/driftInterpolate.js';
import { locsPostShift } from '../../src/recipes/modules/locsPostShift.js';
import { locsFiducial } from '../../src/recipes/modules/locsFiducial.js';
import { slotValue } from '../../src/recipes/runRecipe.js';

describe('buildPlan', () => {
  const items: PlanItem[] = [
    { module: locsPostShift, inputs: { input_localizations: 'Localizations', input_drift_interpolator: 'interp' }, outputs: { output_name: 'corrected' } },
    { module: locsRcc, params: { step: 500, window: 500 }, outputs: { output_drift: 'raw', output_drift_plot: 'raw_plot' } },
    { module: 'Drift_Interpolate', inputs: { input_drift_raw: 'raw' }, outputs: { output_drift_interpolator: 'interp' } },
  ];

  it('gives the plan parseRecipe gives for the same recipe, in dependency order', () => {
    const built = buildPlan(items, ['Localizations']);
    expect(built.steps.map((s) => s.decl.name)).toEqual([locsRcc.name, driftInterpolate.name, locsPostShift.name]);
    const parsed = parseRecipe(formatRecipe(built), ['Localizations']);
    expect(formatRecipe(parsed)).toBe(formatRecipe(built));
    expect(parsed.steps.map((s) => s.params)).toEqual(built.steps.map((s) => s.params));
  });

  it('checks what parseRecipe checks, and a key given in the wrong place', () => {
    const bad: PlanItem[] = [
      { module: locsRcc, params: { step: -1, input_for_correction: 'Localizations' } },
      { module: 'Locs_RCCC', params: {} },
      { module: locsPostShift, inputs: { input_drift_interpolator: 'nowhere' } },
    ];
    let err: unknown;
    try {
      buildPlan(bad, ['Localizations'], { source: 'test plan' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecipeError);
    const kinds = (err as RecipeError).problems.map((p) => p.kind);
    expect(kinds).toEqual(['invalid-value', 'unknown-parameter', 'unknown-module', 'missing-input']);
    expect((err as RecipeError).message).toMatch(/^test plan has 4 problems/);
    expect((err as RecipeError).message).toContain("'input_for_correction' is given as one of the params but is one of the inputs");
  });

  it('leaves an optional input out unless it is given', () => {
    const without = buildPlan([{ module: locsFiducial }], ['Localizations']);
    expect(without.items[0].inputs).toEqual({ input_localizations: 'Localizations' });
    const empty = parseRecipe(`- ccdrift.Locs_Fiducial: {input_drift: ''}\n`, ['Localizations']);
    expect(empty.items[0].inputs).toEqual({ input_localizations: 'Localizations' });
    const withDrift = buildPlan(
      [
        { module: locsRcc, outputs: { output_drift: 'rcc_drift', output_drift_plot: 'rcc_plot' } },
        { module: locsFiducial, inputs: { input_drift: 'rcc_drift' }, outputs: { output_drift: 'drift' } },
      ],
      ['Localizations'],
    );
    expect(withDrift.steps.map((s) => s.decl.name)).toEqual([locsRcc.name, locsFiducial.name]);
    expect(withDrift.consumers.get('rcc_drift')?.map((s) => s.decl.name)).toEqual([locsFiducial.name]);
  });

  it('slotValue reads a slot as its kind, or says what it holds', () => {
    const slots = new Map<string, unknown>([['d', { t: new Float64Array(2), x: new Float64Array(2), y: new Float64Array(2), z: new Float64Array(2) }]]);
    expect(slotValue({ slots }, 'd', 'drift').t.length).toBe(2);
    expect(() => slotValue({ slots }, 'd', 'table')).toThrow(/slot 'd' should hold a localization table after the run, but it holds drift samples/);
    expect(() => slotValue({ slots }, 'e', 'table')).toThrow(/holds nothing \(only the wanted slots/);
  });
});
