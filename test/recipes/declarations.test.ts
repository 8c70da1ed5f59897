/**
 * Issue 9 req 2: module declarations carry their own types — every slot a kind, every default a
 * value of its schema — and the runner holds inputs to their slots' kinds before a module runs.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { inlineExecutor } from '../../src/core/registration/correlationExecutor.js';
import { simulateImageStack } from '../../src/core/simulate/simulateImageStack.js';
import { isSlotValue, SLOT_KIND_NAMES, type SlotKind } from '../../src/recipes/declare.js';
import { parseRecipe } from '../../src/recipes/parseRecipe.js';
import { MODULES } from '../../src/recipes/registry.js';
import { runRecipe } from '../../src/recipes/runRecipe.js';
import { RecipeStepError } from '../../src/recipes/recipeErrors.js';

describe('module declarations', () => {
  it('every slot has a kind, every parameter default is a value of its schema', () => {
    for (const decl of MODULES) {
      for (const [name, slot] of [...Object.entries(decl.inputs), ...Object.entries(decl.outputs)]) {
        expect(Object.keys(SLOT_KIND_NAMES), `${decl.name} ${name}`).toContain(slot.kind);
      }
      for (const [name, p] of Object.entries(decl.params)) {
        expect(p.schema.safeParse(p.default).success, `${decl.name} ${name} = ${JSON.stringify(p.default)}`).toBe(true);
        if (p.cliDefault !== undefined) expect(p.schema.safeParse(p.cliDefault).success, `${decl.name} ${name} (flag default)`).toBe(true);
      }
    }
  });

  it('isSlotValue tells the kinds apart', () => {
    const { stack } = simulateImageStack({ frames: 2, width: 64, height: 64, seed: 2, driftAmplitudeNm: 10 });
    const table = { length: 0, columns: new Map(), metadata: {} };
    const drift = { t: new Float64Array(1), x: new Float64Array(1), y: new Float64Array(1), z: new Float64Array(1) };
    const is = (v: unknown) => (Object.keys(SLOT_KIND_NAMES) as SlotKind[]).filter((k) => k !== 'any' && isSlotValue(k, v));
    expect(is(stack)).toEqual(['image']);
    expect(is(table)).toEqual(['table']);
    expect(is(drift)).toEqual(['drift']);
    expect(is('x.npz')).toEqual([]);
  });

  it('the runner refuses an input of the wrong kind before the module runs, naming slot and kinds', async () => {
    const { stack } = simulateImageStack({ frames: 2, width: 64, height: 64, seed: 2, driftAmplitudeNm: 10 });
    const plan = parseRecipe('- chung_cc.Locs_RCC: {input_for_correction: Localizations, output_drift: drift}\n', ['Localizations']);
    const err = await runRecipe(plan, { Localizations: stack }, { executor: inlineExecutor, cwd: '.' }).catch((e: unknown) => e);
    // The runner's own refusal (not a module failure): an InputError naming the item.
    expect(err).toBeInstanceOf(InputError);
    expect(err).not.toBeInstanceOf(RecipeStepError);
    expect((err as Error).message).toMatch(/^item 1 \(chung_cc\.Locs_RCC\): /);
    expect((err as Error).message).toMatch(
      /input input_for_correction \(slot 'Localizations'\) must be a localization table, but the slot holds an image stack/,
    );
  });
});
