/**
 * Issue 12, the data-loss class: every output is checked against the inputs, the other
 * outputs and its folder before any data is read; a recipe cannot write outside the folder it
 * runs in; the FFT cache never takes over an existing file. Each case asserts the refusal (exit
 * 2, the flag and the path named) and that the input is byte-for-byte untouched and nothing
 * was written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

let dir: string;
let before: Buffer;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-plan-'));
  expect(runCli(['simulate', '-o', 'in.csv', '--frames', '6000', '--locs', '12000', '--seed', '2'], dir).code).toBe(0);
  before = readFileSync(join(dir, 'in.csv'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refused(args: string[], message: RegExp, cwd = dir): void {
  const listing = readdirSync(cwd).sort();
  const r = runCli(args, cwd);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  expect(readFileSync(join(dir, 'in.csv')).equals(before)).toBe(true);
  expect(readdirSync(cwd).sort()).toEqual(listing);
}

describe('outputs are checked before the work starts', () => {
  it('an existing file as --cache-fft (the input, or any file) is refused, not overwritten and deleted', () => {
    refused(['locs', 'in.csv', '-o', 'out.csv', '--cache-fft', 'in.csv'], /--cache-fft in\.csv is the input file/);
    writeFileSync(join(dir, 'precious.bin'), 'keep me');
    refused(['locs', 'in.csv', '-o', 'out.csv', '--cache-fft', 'precious.bin'], /--cache-fft precious\.bin already exists: .*scratch file/);
    expect(readFileSync(join(dir, 'precious.bin'), 'utf8')).toBe('keep me');
  });

  it('--per-frame or --debug-cor-file onto the input is refused', () => {
    refused(['locs', 'in.csv', '-o', 'out.csv', '--per-frame', 'in.csv'], /--per-frame in\.csv is the input file/);
    refused(['locs', 'in.csv', '-o', 'out.csv', '--debug-cor-file', 'in.csv'], /--debug-cor-file in\.csv is the input file/);
  });

  it('a hard link to the input is the input', () => {
    linkSync(join(dir, 'in.csv'), join(dir, 'alias.csv'));
    refused(['locs', 'in.csv', '-o', 'alias.csv'], /-o alias\.csv is the input file in\.csv/);
    rmSync(join(dir, 'alias.csv'));
  });

  it('two outputs at one path are refused (the corrected table is not replaced by the per-frame drift)', () => {
    refused(['locs', 'in.csv', '-o', 'out.csv', '--per-frame', 'out.csv'], /--per-frame out\.csv and -o out\.csv are the same file/);
  });

  it('a missing or unwritable folder, a folder as output, an unknown extension, a Picasso .txt without pixel size', () => {
    refused(['locs', 'in.csv', '-o', 'nowhere/out.csv'], /-o nowhere\/out\.csv: the folder .*nowhere does not exist/);
    mkdirSync(join(dir, 'sub'));
    refused(['locs', 'in.csv', '-o', 'sub'], /-o sub is a folder/);
    refused(['locs', 'in.csv', '-o', 'out.xyz'], /out\.xyz/);
    refused(['locs', 'in.csv', '-o', 'out.csv', '--plot', 'p.gif'], /cannot write a plot with extension '\.gif'/);
    refused(['locs', 'in.csv', '-o', 'out.csv', '--per-frame', 'pf.txt'], /Picasso drift files are in camera pixels; give --pixel-size/);
    if (process.getuid?.() !== 0) {
      mkdirSync(join(dir, 'ro'));
      chmodSync(join(dir, 'ro'), 0o555);
      refused(['locs', 'in.csv', '-o', 'ro/out.csv'], /the folder .*ro is not writable/);
    }
  });

  it('drift and apply check their outputs against the drift files too', () => {
    const made = runCli(['locs', 'in.csv', '-o', 'corr.csv', '--drift-out', 'd.npz', '--step', '1000', '--window', '1000'], dir);
    expect(made.code, made.stderr).toBe(0);
    const npz = readFileSync(join(dir, 'd.npz'));
    refused(['apply', 'in.csv', '--drift', 'd.npz', '-o', 'd.npz'], /-o d\.npz is the input file d\.npz/);
    refused(['drift', 'd.npz', '-o', 'pf.csv', '--plot', 'pf.csv'], /--plot pf\.csv: cannot write a plot|same file/);
    expect(readFileSync(join(dir, 'd.npz')).equals(npz)).toBe(true);
  });
});

describe('--out-dir is made by a run that passed its checks, not before', () => {
  it('a refused run leaves no --out-dir behind; a run that goes ahead makes it', () => {
    writeFileSync(join(dir, 'scratch.bin'), 'keep me');
    // The FFT cache would take over an existing file; an unknown plot extension.
    refused(['locs', 'in.csv', '--out-dir', 'fresh', '--cache-fft', 'scratch.bin'], /--cache-fft scratch\.bin already exists/);
    refused(['apply', 'in.csv', '--drift', 'in.truth.npz', '--out-dir', 'fresh/deep', '--plot', 'drift.gif'], /cannot write a plot with extension '\.gif'/);
    // A batch whose every file is refused.
    copyFileSync(join(dir, 'in.csv'), join(dir, 'again.csv'));
    const listing = readdirSync(dir).sort();
    const batch = runCli(['locs', 'in.csv', 'again.csv', '--out-dir', 'fresh', '--cache-fft', 'scratch.bin', '-q'], dir);
    expect(batch.code, batch.stderr).toBe(1);
    expect(batch.stderr).toMatch(/scratch\.bin already exists/);
    expect(readdirSync(dir).sort()).toEqual(listing);
    expect(readFileSync(join(dir, 'scratch.bin'), 'utf8')).toBe('keep me');
    // One input that passes: the folder (two levels) is made and holds the output.
    const ok = runCli(['apply', 'in.csv', '--drift', 'in.truth.npz', '--out-dir', 'fresh/deep', '-q'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(join(dir, 'fresh', 'deep'))).toEqual(['in_undrift.csv']);
  });
});

describe('a recipe writes only inside the folder it runs in', () => {
  const recipe = (saveParams: string) =>
    `- chung_cc.Locs_RCC:\n    input_for_correction: Localizations\n    output_drift: drift\n    step: 1000\n    window: 1000\n${saveParams}- chung_cc.Drift_Save:\n    input_name: drift\n    save_path: %SAVE%\n`;

  it('Drift_Save save_path ../x.npz or /abs/x.npz is refused before the work', () => {
    for (const target of ['../escaped.npz', '/tmp/ccdrift-escaped.npz', 'sub/../../escaped']) {
      writeFileSync(join(dir, 'r.yaml'), recipe('').replace('%SAVE%', target));
      refused(['run', 'r.yaml', 'in.csv'], /Drift_Save save_path \(item 2\) '.*' would write outside .*: a recipe may only write inside the folder it runs in/);
    }
    expect(existsSync(join(dir, '..', 'escaped.npz'))).toBe(false);
    expect(existsSync('/tmp/ccdrift-escaped.npz')).toBe(false);
  });

  it('an absolute debug_cor_file, a cache_fft onto the input, and a save onto the recipe are refused', () => {
    writeFileSync(join(dir, 'r.yaml'), recipe('    debug_cor_file: /tmp/ccdrift-cor.tif\n').replace('%SAVE%', 'ok'));
    refused(['run', 'r.yaml', 'in.csv'], /debug_cor_file \(item 1\) '\/tmp\/ccdrift-cor\.tif' would write outside/);
    writeFileSync(join(dir, 'r.yaml'), recipe('    cache_fft: in.csv\n').replace('%SAVE%', 'ok'));
    refused(['run', 'r.yaml', 'in.csv'], /cache_fft \(item 1\) .*in\.csv is the input file/);
    writeFileSync(join(dir, 'r.yaml'), recipe('').replace('%SAVE%', 'ok'));
    refused(['run', 'r.yaml', 'in.csv', '--save', 'dump_corrected_localizations=in.csv'], /--save dump_corrected_localizations .*in\.csv is the input file/);
    // The recipe is an input too (named so that a writer exists for its extension).
    writeFileSync(join(dir, 'recipe.npz'), recipe('').replace('%SAVE%', 'ok'));
    const recipeBytes = readFileSync(join(dir, 'recipe.npz'));
    refused(['run', 'recipe.npz', 'in.csv', '--save', 'drift=recipe.npz'], /--save drift .*recipe\.npz is the input file recipe\.npz/);
    expect(readFileSync(join(dir, 'recipe.npz')).equals(recipeBytes)).toBe(true);
    rmSync(join(dir, 'recipe.npz'));
  });

  it('a recipe whose outputs stay inside runs', () => {
    writeFileSync(join(dir, 'r.yaml'), recipe('').replace('%SAVE%', 'sub/drift_saved'));
    const r = runCli(['run', 'r.yaml', 'in.csv', '-o', 'out'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'sub', 'drift_saved.npz'))).toBe(true);
  });
});

describe('run -o DIR: the files it names itself are checked before the data is read', () => {
  const recipe = `- chung_cc.Locs_RCC:\n    input_for_correction: Localizations\n    output_drift: drift\n    output_drift_plot: rcc_plot\n    step: 1000\n    window: 1000\n- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n- chung_cc.Locs_Post_Shift:\n    input_localizations: Localizations\n`;

  it('a default output that is the input, -o that is a file, a missing file the recipe reads', () => {
    writeFileSync(join(dir, 'd.yaml'), recipe);
    mkdirSync(join(dir, 'res'), { recursive: true });
    writeFileSync(join(dir, 'res', 'corrected_localizations.csv'), before);
    refused(
      ['run', 'd.yaml', 'res/corrected_localizations.csv', '-o', 'res'],
      /-o res \(slot corrected_localizations\) .*corrected_localizations\.csv is the input file/,
    );
    expect(readFileSync(join(dir, 'res', 'corrected_localizations.csv')).equals(before)).toBe(true);
    refused(['run', 'd.yaml', 'in.csv', '-o', 'in.csv'], /-o in\.csv is a file, not a folder/);
    writeFileSync(
      join(dir, 'load.yaml'),
      recipe.replace(
        /- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n/,
        '- chung_cc.Drift_Load_Interpolate:\n    input_dummy: drift\n    load_paths: [gone.npz]\n',
      ),
    );
    const r = runCli(['run', 'load.yaml', 'in.csv', '-o', 'res'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/Drift_Load_Interpolate load_paths \(item 2\): gone\.npz does not exist/);
    expect(r.stderr).not.toMatch(/localizations\n/); // refused before the data was read
    rmSync(join(dir, 'res'), { recursive: true });
  });

  it('files that exist are not replaced without --force; -o DIR is made when missing', () => {
    writeFileSync(join(dir, 'd.yaml'), recipe);
    const first = runCli(['run', 'd.yaml', 'in.csv', '-o', 'fresh/results'], dir);
    expect(first.code, first.stderr).toBe(0);
    const table = join(dir, 'fresh', 'results', 'corrected_localizations.csv');
    const written = readFileSync(table);
    // Each "wrote" line comes after the outputs are in place, the last of the run's lines.
    expect(
      first.stderr
        .trimEnd()
        .split('\n')
        .slice(-3)
        .every((l) => l.startsWith('wrote ') || l.startsWith('not saved')),
    ).toBe(true);
    refused(
      ['run', 'd.yaml', 'in.csv', '-o', 'fresh/results'],
      /-o fresh\/results \(slot \w+\) .* already exists; ccdrift does not replace it without --force \(or choose another -o folder\)/,
    );
    expect(readFileSync(table).equals(written)).toBe(true);
    const again = runCli(['run', 'd.yaml', 'in.csv', '-o', 'fresh/results', '--force'], dir);
    expect(again.code, again.stderr).toBe(0);
    rmSync(join(dir, 'fresh'), { recursive: true });
  });
});

describe('what dead runs left behind', () => {
  it('stale temporaries and FFT caches of dead processes are removed and named; others are not touched', () => {
    const deadPid = 999_999;
    const stale = join(dir, `.o5.csv.${deadPid}.abcdef01.tmp`);
    // A private temporary folder: every ccdrift run sweeps its TMPDIR for dead runs' caches, and
    // other test files' runs in the shared one could remove this cache before this run does.
    const privateTmp = mkdtempSync(join(tmpdir(), 'ccdrift-deadruns-'));
    const cache = join(privateTmp, `ccdrift-fft-${deadPid}-abcdef02.cache`);
    const mine = join(dir, `.o5.csv.${process.pid}.abcdef03.tmp`); // a live process's
    const other = join(dir, '.notes.tmp');
    for (const f of [stale, cache, mine, other]) writeFileSync(f, 'x');
    const r = runCli(['locs', 'in.csv', '-o', 'o5.csv', '--step', '1000', '--window', '1000'], dir, { TMPDIR: privateTmp });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain(`removed ${stale}, left behind by a ccdrift run that no longer exists`);
    expect(r.stdout + r.stderr).toContain(`removed ${cache}`);
    expect(existsSync(stale) || existsSync(cache)).toBe(false);
    expect(existsSync(mine) && existsSync(other)).toBe(true);
    rmSync(mine);
    rmSync(other);
    rmSync(privateTmp, { recursive: true, force: true });
  });
});
