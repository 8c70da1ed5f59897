import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriftInterpolator } from '../../src/core/drift/driftInterpolator.js';
import { estimateDriftFromImages } from '../../src/core/drift/estimateDriftFromImages.js';
import { applyDriftToStack } from '../../src/core/image/applyDriftToStack.js';
import { prefilterStack } from '../../src/core/image/prefilterStack.js';
import { inlineExecutor } from '../../src/core/registration/correlationExecutor.js';
import { readImageStack } from '../../src/io/index.js';
import { formatRecipe, parseRecipe } from '../../src/recipes/parseRecipe.js';
import { runRecipe } from '../../src/recipes/runRecipe.js';
import { createSaveSink, planSaves, type SaveOptions } from '../../src/recipes/saveOutputs.js';
import { fixturesDir, haveSharedFixtures, sharedFixture, sharedSkipReason } from '../helpers/fixtures.js';

const text = readFileSync(join(fixturesDir, 'recipes', 'correct_drift_images.yaml'), 'utf8');

describe('correct_drift_images.yaml: validation and order', () => {
  it('runs the pre-filter (written last) first, with the image slot `input`', () => {
    const plan = parseRecipe(text, ['input']);
    expect(plan.steps.map((s) => [s.item, s.decl.name])).toEqual([
      [4, 'chung_cc.Image_Pre_Clip&Filter'],
      [1, 'chung_cc.Image_RCC'],
      [2, 'chung_cc.Drift_Interpolate'],
      [3, 'chung_cc.Image_Post_Shift'],
    ]);
    expect(plan.steps[0].params).toMatchObject({ median_filter_size: -1, threshold_upper: 65535, tukey_size: 0.25 });
    expect(plan.steps[1].params).toMatchObject({ corr_window: -1, multiprocessing: true, shift_max: 'auto', method: 'RCC' });
  });

  it('with a table loaded instead, the missing image slot is named', () => {
    expect(() => parseRecipe(text, ['Localizations'])).toThrow(/'input' is not produced by any module; available: Localizations, /);
  });
});

describe.skipIf(!haveSharedFixtures)(`correct_drift_images.yaml on the original's example stack (${haveSharedFixtures ? 'present' : sharedSkipReason})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ccdrift-image-recipe-'));
    copyFileSync(sharedFixture('seed-example', 'wormlike_simulated_images_with_drift.h5'), join(dir, 'stack.h5'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs unchanged, saves the corrected stack in the input format with the recipe, and equals the core pipeline', async () => {
    const inputPath = join(dir, 'stack.h5');
    const input = await readImageStack(inputPath);
    const plan = parseRecipe(text, ['input']);
    const options: SaveOptions = { outDir: 'out', cwd: dir, recipeText: formatRecipe(plan), inputPath };
    const savePlan = planSaves(plan, options);
    const sink = createSaveSink(savePlan, options);
    await runRecipe(plan, { input }, { executor: inlineExecutor, cwd: dir }, { wantedSlots: savePlan.wanted, sink });
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['drift_corrected_image.h5', 'drift_plot.png', 'dump_drift_plot.png']);

    const written = await readImageStack(join(dir, 'out', 'drift_corrected_image.h5'));
    expect([written.width, written.height, written.frames, written.dtype]).toEqual([input.width, input.height, input.frames, input.dtype]);
    expect(String(written.metadata['Pipeline.Recipe'])).toContain('chung_cc.Image_Post_Shift:');

    const raw = await estimateDriftFromImages(
      prefilterStack(input, { medianFilterSize: -1, thresholdLower: 0, clipToLower: 0, thresholdUpper: 65535, clipToUpper: 0, tukeySize: 0.25 }),
      { method: 'RCC', shiftMaxNm: 5, corrWindow: -1 },
    );
    const expected = applyDriftToStack(input, createDriftInterpolator([raw.drift], { degree: 3, smoothing: -1, extrapolation: 'linear' }), {
      paddingMultiplier: 1,
    });
    for (const i of [0, input.frames - 1]) expect(await written.readFrame(i)).toEqual(await expected.readFrame(i));
    expected.dispose();
  });
});
