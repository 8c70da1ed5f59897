/**
 * Issue 9 req 3 from the command line: the core's messages name library options
 * (test/core/messageParams.test.ts); `ccdrift locs` shows them as its flags, `ccdrift run` as the
 * recipe's parameters, in errors and in warnings alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ccdrift-params-'));
  const r = runCli(['simulate', '-o', 'sim.csv', '--frames', '2000', '--locs', '5000', '--seed', '36'], dir);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A library option name, marked as the core writes it. */
const MARKED = /`[a-z]+[A-Z]\w*`/;

describe('core messages through the CLI', () => {
  it('ccdrift locs: an error and a warning name the flags', () => {
    let r = runCli(['locs', 'sim.csv', '-o', 'aim.csv', '--method', 'AIM', '--max-drift', '5'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ccdrift: error: --max-drift (5 nm) must be at least half --intersect-distance (20 nm)');
    r = runCli(['locs', 'sim.csv', '-o', 'rcc.csv', '--refine', 'off', '--step', '100', '--window', '100', '--binsize', '30'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /ccdrift: warning: the time windows hold a median of only \d+ localizations .* use longer windows \(--step, --window\) or leave them at auto/,
    );
    expect(r.stderr).not.toMatch(MARKED);
  });

  it('ccdrift run: the same error and warning name the recipe parameters', () => {
    writeFileSync(
      join(dir, 'aim.yaml'),
      [
        '- Locs_AIM: {input_localizations: Localizations, output_drift: drift, max_drift: 5}',
        '- chung_cc.Drift_Save: {input_name: drift, save_path: aim}',
        '',
      ].join('\n'),
    );
    let r = runCli(['run', 'aim.yaml', 'sim.csv'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ccdrift: error: .*Locs_AIM.*: max_drift \(5 nm\) must be at least half intersect_distance \(20 nm\)/);
    writeFileSync(
      join(dir, 'rcc.yaml'),
      [
        '- chung_cc.Locs_RCC: {input_for_correction: Localizations, output_drift: drift, step: 100, window: 100, binsize: 30}',
        '- chung_cc.Drift_Save: {input_name: drift, save_path: rcc}',
        '',
      ].join('\n'),
    );
    r = runCli(['run', 'rcc.yaml', 'sim.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /ccdrift: warning: the time windows hold a median of only \d+ localizations .* use longer windows \(step, window\) or leave them at auto/,
    );
    expect(r.stderr).not.toMatch(MARKED);
    expect(r.stderr).not.toMatch(/--(step|window)\b/);
  });
});
