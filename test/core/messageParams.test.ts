/**
 * Issue 9 req 3: core warnings and errors name the library option a caller typed (`binSizeNm`),
 * never a command-line flag; the CLI shows the same messages with its flags (`--binsize`), and
 * `ccdrift run` with the recipe's parameters (`binsize`). Through the CLI: test/cli/messageParams.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { param, paramsIn, renderParams } from '../../src/core/messageParams.js';
import { estimateDriftFromLocs } from '../../src/core/drift/estimateDriftFromLocs.js';
import { estimateDriftFiducial } from '../../src/core/drift/estimateDriftFiducial.js';
import { pairWarnings, type PairDiagnostics } from '../../src/core/registration/pairDiagnostics.js';
import { simulateLocalizations } from '../../src/core/simulate/simulateLocalizations.js';
import { describeError } from '../../src/cli/errorMessage.js';
import { collectWarnings } from '../../src/cli/report.js';
import { COMMAND_FLAG_OF, flagsOf, parameterNameFor, RECIPE_PARAMETER_OF, renderParamsFor } from '../../src/recipes/parameterNames.js';

/** A command-line flag anywhere in a text. */
const FLAG = /(^|[\s(/])--[a-z]/;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('the marking', () => {
  it('marks an option in backticks; front ends rename only the options they know', () => {
    const text = `use a shorter ${param('segmentFrames')} (at most 12), check \`ccdrift info\` or ${param('noSuchOption')}`;
    expect(text).toBe('use a shorter `segmentFrames` (at most 12), check `ccdrift info` or `noSuchOption`');
    expect(paramsIn(text)).toEqual(['segmentFrames', 'noSuchOption']);
    expect(renderParams(text, (o) => (o === 'segmentFrames' ? '--segment' : undefined))).toBe(
      'use a shorter --segment (at most 12), check `ccdrift info` or `noSuchOption`',
    );
    expect(renderParamsFor(text, 'flag')).toBe('use a shorter --segment (at most 12), check `ccdrift info` or `noSuchOption`');
    expect(renderParamsFor(text, 'recipe')).toBe('use a shorter segment (at most 12), check `ccdrift info` or `noSuchOption`');
    // Rendering twice changes nothing (the CLI renders a warning for the terminal and for the report).
    expect(renderParamsFor(renderParamsFor(text, 'flag'), 'flag')).toBe(renderParamsFor(text, 'flag'));
  });

  it("every option with a recipe parameter has a name on the command line; the commands' own flags come first", () => {
    for (const option of Object.keys(RECIPE_PARAMETER_OF)) expect(flagsOf(option).length, option).toBeGreaterThan(0);
    expect(flagsOf('paddingMultiplier')).toEqual(['--padding', '--padding-multiplier']);
    expect(parameterNameFor('refine', 'flag')).toBe('--refine');
    expect(parameterNameFor('radiusNm', 'flag')).toBe('--fiducial-radius');
    expect(parameterNameFor('radiusNm', 'recipe')).toBe('radius');
    expect(Object.values(COMMAND_FLAG_OF).every((f) => f.startsWith('--'))).toBe(true);
    // Reading options: `ccdrift run` takes them as its own flags, not as recipe parameters.
    expect(parameterNameFor('pixelSizeNm', 'flag')).toBe('--pixel-size');
    expect(parameterNameFor('pixelSizeNm', 'recipe')).toBe('--pixel-size');
    expect(parameterNameFor('voxelSizeNm', 'recipe')).toBe('--voxel-size');
    expect(parameterNameFor('noSuchOption', 'recipe')).toBe('noSuchOption');
  });
});

describe('a library caller reads the options it typed, the CLI its flags, a recipe its parameters', () => {
  const sim = simulateLocalizations({ frames: 2000, locs: 5000, seed: 36 });

  it('AIM: a search radius smaller than half the intersect distance (a usage error)', async () => {
    const e = await rejection(estimateDriftFromLocs(sim.table, { method: 'AIM', maxDriftNm: 5 }));
    expect(e.message).toMatch(/^`maxDriftNm` \(5 nm\) must be at least half `intersectDistanceNm` \(20 nm\)/);
    expect(e.message).not.toMatch(FLAG);
    expect(describeError(e, { command: 'locs' })).toEqual({
      message: e.message.replace('`maxDriftNm`', '--max-drift').replace('`intersectDistanceNm`', '--intersect-distance'),
      exitCode: 2,
    });
    expect(describeError(e, { command: 'run' }).message).toMatch(/^max_drift \(5 nm\) must be at least half intersect_distance \(20 nm\)/);
  });

  it('AIM: segments longer than the data (insufficient data)', async () => {
    const e = await rejection(estimateDriftFromLocs(sim.table, { method: 'AIM', segmentFrames: 5000 }));
    expect(e.message).toMatch(/only one AIM segment of 5000 frames; use a shorter `segmentFrames` \(at most \d+\)/);
    expect(e.message).not.toMatch(FLAG);
    const cli = describeError(e, { command: 'locs' });
    expect(cli.exitCode).toBe(1);
    expect(cli.message).toMatch(/use a shorter --segment \(at most \d+\)$/);
    expect(describeError(e, { command: 'run' }).message).toMatch(/use a shorter segment \(at most \d+\)$/);
  });

  it('fiducial: no marker found asks for picks and names the radius', () => {
    const e = thrown(() => estimateDriftFiducial({ x: sim.table.columns.get('x')!, y: sim.table.columns.get('y')!, t: sim.table.columns.get('t')! }));
    expect(e.message).toMatch(/give the markers \(`picks`\), or a larger `radiusNm` \/ smaller `minFraction`$/);
    expect(e.message).not.toMatch(FLAG);
    expect(describeError(e, { command: 'locs' }).message).toMatch(
      /give the markers \(--picks\), or a larger --fiducial-radius \/ smaller --fiducial-min-fraction$/,
    );
    expect(describeError(e, { command: 'run' }).message).toMatch(/give the markers \(picks\), or a larger radius \/ smaller min_fraction$/);
  });

  it('RCC warnings: sparse windows name stepFrames and windowFrames; the CLI shows --step and --window', async () => {
    // What the core says reaches the library's reporter as it is; the CLI collects it renamed (for its report and terminal).
    const warnings: string[] = [];
    const cli = collectWarnings({ warn: (m) => warnings.push(m) }, 'flag');
    const recipe = collectWarnings(cli.progress, 'recipe');
    await estimateDriftFromLocs(sim.table, { stepFrames: 100, windowFrames: 100, binSizeNm: 30, refine: false }, { progress: recipe.progress });
    const sparse = warnings.findIndex((w) => w.includes('median of only'));
    expect(sparse).toBeGreaterThanOrEqual(0);
    expect(warnings[sparse]).toMatch(/use longer windows \(`stepFrames`, `windowFrames`\) or leave them at auto$/);
    for (const w of warnings) expect(w).not.toMatch(FLAG);
    expect(cli.warnings[sparse]).toMatch(/use longer windows \(--step, --window\) or leave them at auto$/);
    expect(recipe.warnings[sparse]).toMatch(/use longer windows \(step, window\) or leave them at auto$/);
  });

  it('pair diagnostics: images and localizations', () => {
    const d: PairDiagnostics = { measured: 10, pinnedFraction: 0.9, medianSecondaryRatio: 0.95, edgeFraction: 0.9 };
    const all = [...pairWarnings(d, 'images'), ...pairWarnings(d, 'localizations')];
    expect(all).toHaveLength(6);
    for (const w of all) expect(w).not.toMatch(FLAG);
    const text = all.join('\n');
    expect(text).toMatch(/keep `background` 'auto', raise `thresholdLower`\/`clipToLower` above the offset/);
    expect(text).toMatch(/larger bins \(`binSizeNm`\)/);
    const cli = renderParamsFor(text, 'flag');
    expect(cli).toMatch(/keep --background 'auto', raise --threshold-lower\/--clip-to-lower above the offset/);
    expect(cli).toMatch(/use longer time windows \(--window, --step\) or larger bins \(--binsize\)/);
    expect(cli).toMatch(/use a smaller --corr-window/);
    expect(cli).not.toMatch(/`[a-z]+[A-Z]\w*`/);
  });
});

describe('the web app shows an option as its form field, or as the recipe parameter when Run runs a recipe', () => {
  it("field labels (the flags of the form: --padding-multiplier, not the CLI's --padding)", async () => {
    const { renderForForm } = await import('../../web/src/params.js');
    const text = `give a smaller ${param('paddingMultiplier')}, keep ${param('background')} 'auto' or set ${param('refine')} off`;
    expect(renderForForm(text, 'stack', false)).toBe("give a smaller --padding-multiplier, keep --background 'auto' or set `refine` off");
    expect(renderForForm(text, 'table', false)).toBe("give a smaller `paddingMultiplier`, keep `background` 'auto' or set --refine off");
    expect(renderForForm(text, 'table', true)).toBe("give a smaller padding_multipler, keep background 'auto' or set refine off");
  });
});
