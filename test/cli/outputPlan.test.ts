/**
 * Issue 12, the data-loss class: every output is checked against the inputs, the other
 * outputs and its folder before any data is read; a recipe cannot write outside the folder it
 * runs in; the FFT cache never takes over an existing file. Each case asserts the refusal (exit
 * 2, the flag and the path named) and that the input is byte-for-byte untouched and nothing
 * was written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

describe('a recipe writes only inside the folder it runs in', () => {
  const recipe = (saveParams: string) => `- chung_cc.Locs_RCC:\n    input_for_correction: Localizations\n    output_drift: drift\n    step: 1000\n    window: 1000\n${saveParams}- chung_cc.Drift_Save:\n    input_name: drift\n    save_path: %SAVE%\n`;

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

describe('what dead runs left behind', () => {
  it('stale temporaries and FFT caches of dead processes are removed and named; others are not touched', () => {
    const deadPid = 999_999;
    const stale = join(dir, `.o5.csv.${deadPid}.abcdef01.tmp`);
    const cache = join(tmpdir(), `ccdrift-fft-${deadPid}-abcdef02.cache`);
    const mine = join(dir, `.o5.csv.${process.pid}.abcdef03.tmp`); // a live process's
    const other = join(dir, '.notes.tmp');
    for (const f of [stale, cache, mine, other]) writeFileSync(f, 'x');
    const r = runCli(['locs', 'in.csv', '-o', 'o5.csv', '--step', '1000', '--window', '1000'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain(`removed ${stale}, left behind by a ccdrift run that no longer exists`);
    expect(r.stdout + r.stderr).toContain(`removed ${cache}`);
    expect(existsSync(stale) || existsSync(cache)).toBe(false);
    expect(existsSync(mine) && existsSync(other)).toBe(true);
    rmSync(mine);
    rmSync(other);
  });
});
