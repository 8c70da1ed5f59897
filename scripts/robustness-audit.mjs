#!/usr/bin/env node
/**
 * Issue 12 audit: ccdrift tried as a careless or hostile user would. Runs ~50 bad inputs and
 * faults (corrupt and truncated files of each format, outputs onto inputs through every output
 * flag, recipe outputs escaping the folder, absurd parameters on every command, read-only
 * folders, Ctrl-C in each phase) and checks each for: the expected exit code, a message naming
 * the file or parameter, no stack trace or raw Node error code, no temporary files left, no
 * output where it failed, and every input byte-for-byte unchanged.
 *
 *   npm run build && node scripts/robustness-audit.mjs [filter]
 *
 * Prints one line per case (PASS/FAIL and why) and exits 1 when any case fails. Takes a few
 * minutes: it runs the built CLI many times. Not part of `npm test`: test/cli/robustness.test.ts
 * and outputPlan.test.ts hold a fast test of each class.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'ccdrift.js');
const filter = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'ccdrift-audit-'));
const asRoot = process.getuid?.() === 0;

function cli(args, opts = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: opts.timeout ?? 120_000 });
  return { code: r.status ?? (r.signal ? `signal ${r.signal}` : -1), stderr: r.stderr ?? '', stdout: r.stdout ?? '' };
}

/** Every file under the audit folder with its hash (temporaries included). */
function snapshot() {
  const out = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha1').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function tmpLeftovers() {
  return readdirSync(tmpdir()).filter((n) => /^ccdrift-fft-\d+-/.test(n) && !existsSync(`/proc/${n.split('-')[2]}`));
}

// --- fixtures ------------------------------------------------------------------------------
function setup() {
  const ok = (r, what) => {
    if (r.code !== 0) throw new Error(`setup ${what}: ${r.stderr}`);
  };
  ok(cli(['simulate', '-o', 'in.csv', '--frames', '3000', '--locs', '8000', '-q']), 'csv');
  ok(cli(['simulate', '-o', 'in.hdf', '--frames', '3000', '--locs', '8000', '-q']), 'hdf');
  ok(cli(['simulate', '--images', '-o', 'st.tif', '--frames', '12', '-q']), 'tif');
  ok(cli(['locs', 'in.csv', '-o', 'corr.csv', '--drift-out', 'd.npz', '-q']), 'npz');
  const csv = readFileSync(join(dir, 'in.csv'));
  writeFileSync(join(dir, 'trunc.csv'), csv.subarray(0, Math.floor(csv.length / 2) + 7));
  writeFileSync(join(dir, 'header.csv'), csv.subarray(0, csv.indexOf(10) + 1));
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'random.csv'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
  writeFileSync(join(dir, 'utf16.csv'), Buffer.from(`\ufeff${csv.subarray(0, 2000).toString()}`, 'utf16le'));
  const tif = readFileSync(join(dir, 'st.tif'));
  writeFileSync(join(dir, 'trunc.tif'), tif.subarray(0, Math.floor(tif.length / 3)));
  writeFileSync(join(dir, 'head.tif'), tif.subarray(0, 6));
  writeFileSync(join(dir, 'random.tif'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) % 256)));
  const hdf = readFileSync(join(dir, 'in.hdf'));
  writeFileSync(join(dir, 'trunc.hdf'), hdf.subarray(0, Math.floor(hdf.length / 2)));
  writeFileSync(join(dir, 'random.hdf5'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 3) % 256)));
  const npz = readFileSync(join(dir, 'd.npz'));
  writeFileSync(join(dir, 'trunc.npz'), npz.subarray(0, Math.floor(npz.length / 2)));
  writeFileSync(join(dir, 'random.npz'), Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 17 + 1) % 256)));
  writeFileSync(join(dir, 'pickle.npz'), Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e]));
  writeFileSync(join(dir, 'bad.yaml'), '- chung_cc.Locs_RCC:\n    step: [1, 2\n');
  writeFileSync(join(dir, 'notlist.yaml'), 'just: a mapping\n');
  const recipe = (extra = '', save = 'saved') =>
    `- chung_cc.Locs_RCC:\n    input_for_correction: Localizations\n    output_drift: drift\n    output_drift_plot: rcc_plot\n    step: 1000\n    window: 1000\n${extra}- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n- chung_cc.Locs_Post_Shift:\n    input_localizations: Localizations\n- chung_cc.Drift_Save:\n    input_name: drift\n    save_path: ${save}\n`;
  writeFileSync(join(dir, 'r.yaml'), recipe());
  writeFileSync(join(dir, 'up.yaml'), recipe('', '../escaped'));
  writeFileSync(join(dir, 'abs.yaml'), recipe('', '/tmp/ccdrift-audit-escaped'));
  writeFileSync(join(dir, 'cor.yaml'), recipe('    debug_cor_file: /tmp/ccdrift-audit-cor.tif\n'));
  writeFileSync(join(dir, 'cache.yaml'), recipe('    cache_fft: in.csv\n'));
  writeFileSync(join(dir, 'onself.npz'), recipe('', 'onself.npz'));
  writeFileSync(
    join(dir, 'loadmissing.yaml'),
    recipe().replace(
      /- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n/,
      '- chung_cc.Drift_Load_Interpolate:\n    input_dummy: drift\n    load_paths: [missing.npz]\n',
    ),
  );
  writeFileSync(
    join(dir, 'pad.yaml'),
    '- chung_cc.Image_RCC:\n    input_image: input\n    output_drift: drift\n    output_drift_plot: p1\n- chung_cc.Drift_Interpolate:\n    input_drift_raw: drift\n- chung_cc.Image_Post_Shift:\n    input_image: input\n    padding_multipler: 1000000\n',
  );
  mkdirSync(join(dir, 'res'));
  writeFileSync(join(dir, 'res', 'corrected_localizations.csv'), csv);
  mkdirSync(join(dir, 'ro'));
  chmodSync(join(dir, 'ro'), 0o555);
}

// --- cases ---------------------------------------------------------------------------------
/** [name, args, expected exit code(s), message pattern, { creates: files allowed to appear }] */
const cases = [
  // corrupt and truncated files
  ['truncated CSV (cut mid-row)', ['locs', 'trunc.csv', '-o', 'o.csv'], [0, 1], /trunc\.csv|wrote/],
  ['header-only CSV', ['locs', 'header.csv', '-o', 'o.csv'], [1], /header\.csv.*no localizations|header\.csv/],
  ['empty CSV', ['locs', 'empty.csv', '-o', 'o.csv'], [1], /empty\.csv/],
  ['random bytes as CSV', ['locs', 'random.csv', '-o', 'o.csv'], [1], /random\.csv.*(binary|not text|UTF)/i],
  ['UTF-16 CSV', ['info', 'utf16.csv'], [0, 1], /utf16\.csv|rows/i],
  ['truncated TIFF', ['images', 'trunc.tif', '-o', 'o.tif'], [1], /trunc\.tif/],
  ['TIFF header only', ['info', 'head.tif'], [1], /head\.tif/],
  ['random bytes as TIFF', ['images', 'random.tif', '-o', 'o.tif'], [1], /random\.tif/],
  ['truncated PYME .hdf', ['locs', 'trunc.hdf', '-o', 'o.csv'], [1], /trunc\.hdf/],
  ['random bytes as .hdf5', ['info', 'random.hdf5'], [1], /random\.hdf5/],
  ['truncated .npz to apply', ['apply', 'in.csv', '--drift', 'trunc.npz', '-o', 'o.csv'], [1], /trunc\.npz/],
  ['random bytes as .npz', ['drift', 'random.npz'], [1], /random\.npz/],
  ['a pickle as .npz', ['info', 'pickle.npz'], [1], /pickle\.npz/],
  ['recipe with a YAML syntax error', ['run', 'bad.yaml', 'in.csv'], [1, 2], /bad\.yaml/],
  ['recipe that is not a list', ['run', 'notlist.yaml', 'in.csv'], [1, 2], /notlist\.yaml/],
  ['missing input', ['locs', 'nothere.csv', '-o', 'o.csv'], [1], /nothere\.csv/],
  ['a folder as input', ['info', 'res'], [1, 2], /res/],
  // outputs onto inputs, through every output flag
  ['locs -o onto the input', ['locs', 'in.csv', '-o', 'in.csv'], [2], /-o in\.csv is the input/],
  ['locs --per-frame onto the input', ['locs', 'in.csv', '-o', 'o.csv', '--per-frame', 'in.csv'], [2], /--per-frame in\.csv is the input/],
  ['locs --debug-cor-file onto the input', ['locs', 'in.csv', '-o', 'o.csv', '--debug-cor-file', 'in.csv'], [2], /--debug-cor-file in\.csv is the input/],
  ['locs --cache-fft onto the input', ['locs', 'in.csv', '-o', 'o.csv', '--cache-fft', 'in.csv'], [2], /--cache-fft in\.csv is the input/],
  ['locs --cache-fft onto another file', ['locs', 'in.csv', '-o', 'o.csv', '--cache-fft', 'd.npz'], [2], /--cache-fft d\.npz already exists/],
  ['locs --drift-out onto the input', ['locs', 'in.hdf', '-o', 'o.hdf', '--drift-out', 'd.npz', '--per-frame', 'd.npz'], [2], /same file|d\.npz/],
  ['locs --plot onto -o', ['locs', 'in.csv', '-o', 'o.png', '--plot', 'o.png'], [2], /o\.png/],
  ['locs --report onto the input', ['locs', 'in.csv', '-o', 'o.csv', '--report', 'in.csv'], [2], /--report in\.csv/],
  ['locs -o == --per-frame', ['locs', 'in.csv', '-o', 'o.csv', '--per-frame', 'o.csv'], [2], /same file/],
  ['images -o onto the input', ['images', 'st.tif', '-o', 'st.tif'], [2], /-o st\.tif is the input/],
  ['images --debug-cor-file onto the input', ['images', 'st.tif', '-o', 'o.tif', '--debug-cor-file', 'st.tif'], [2], /st\.tif is the input/],
  ['apply -o onto the drift file', ['apply', 'in.csv', '--drift', 'd.npz', '-o', 'd.npz'], [2], /d\.npz is the input/],
  ['apply --plot onto the input', ['apply', 'in.csv', '--drift', 'd.npz', '-o', 'o.csv', '--plot', 'in.csv'], [2], /--plot in\.csv/],
  ['drift -o onto its input', ['drift', 'd.npz', '-o', 'd.npz'], [2], /d\.npz is the input/],
  ['drift --plot onto its input', ['drift', 'd.npz', '--plot', 'd.npz'], [2], /--plot d\.npz/],
  ['simulate -o onto a folder', ['simulate', '-o', 'res'], [2], /res is a folder/],
  // recipes
  ['recipe save_path ../x', ['run', 'up.yaml', 'in.csv'], [2], /would write outside/],
  ['recipe save_path /abs', ['run', 'abs.yaml', 'in.csv'], [2], /would write outside/],
  ['recipe debug_cor_file /abs', ['run', 'cor.yaml', 'in.csv'], [2], /would write outside/],
  ['recipe cache_fft onto the input', ['run', 'cache.yaml', 'in.csv'], [2], /in\.csv is the input/],
  ['recipe save_path onto the recipe', ['run', 'onself.npz', 'in.csv'], [2], /onself\.npz is the input/],
  ['recipe --save onto the recipe', ['run', 'r.yaml', 'in.csv', '--save', 'drift=r.yaml'], [2], /r\.yaml/],
  ['run -o DIR: a default output is the input', ['run', 'r.yaml', 'res/corrected_localizations.csv', '-o', 'res'], [2], /is the input/],
  ['run -o DIR that is a file', ['run', 'r.yaml', 'in.csv', '-o', 'in.csv'], [2], /in\.csv is a file/],
  ['recipe load_paths missing', ['run', 'loadmissing.yaml', 'in.csv'], [1, 2], /missing\.npz does not exist/],
  ['recipe Image_Post_Shift padding 1e6', ['run', 'pad.yaml', 'st.tif', '-o', 'pad'], [1], /padding_multipler 1000000/],
  // absurd parameters, every command
  ['locs --binsize 1e-6', ['locs', 'in.csv', '-o', 'o.csv', '--binsize', '1e-6'], [1, 2], /binsize/],
  ['locs --step -5', ['locs', 'in.csv', '-o', 'o.csv', '--step', '-5'], [2], /step/],
  ['locs --window 0', ['locs', 'in.csv', '-o', 'o.csv', '--window', '0'], [2], /window/],
  ['locs --workers 0', ['locs', 'in.csv', '-o', 'o.csv', '--workers', '0'], [2], /--workers/],
  ['locs --memory-budget abc', ['locs', 'in.csv', '-o', 'o.csv', '--memory-budget', 'abc'], [2], /--memory-budget/],
  ['locs --pixel-size -1', ['locs', 'in.csv', '-o', 'o.csv', '--pixel-size', '-1'], [2], /pixel-size/],
  ['locs --smoothing nan', ['locs', 'in.csv', '-o', 'o.csv', '--smoothing', 'nan'], [2], /smoothing/],
  ['images --padding 1e9', ['images', 'st.tif', '-o', 'o.tif', '--padding', '1e9'], [1, 2], /padding/],
  ['images --bin 0,0,0', ['images', 'st.tif', '-o', 'o.tif', '--bin', '0,0,0'], [2], /bin/],
  ['images --x-start 1e9', ['images', 'st.tif', '-o', 'o.tif', '--x-start', '1e9'], [1, 2], /x.start|x_start/],
  ['apply --padding -1', ['apply', 'st.tif', '--drift', 'd.npz', '-o', 'o.tif', '--padding', '-1'], [2], /padding/],
  ['drift --frames 0:1e12', ['drift', 'd.npz', '--frames', '0:1e12'], [1, 2], /frames/],
  ['drift --frames 5:2', ['drift', 'd.npz', '--frames', '5:2'], [2], /frames/],
  ['drift --degree 9', ['drift', 'd.npz', '--degree', '9'], [2], /degree/],
  ['locs --table nope', ['locs', 'in.hdf', '-o', 'o.csv', '--table', 'nope'], [1, 2], /nope/],
  ['simulate --locs 1e12', ['simulate', '-o', 's.csv', '--locs', '1e12'], [1], /--locs|localizations/],
  ['simulate --frames -3', ['simulate', '-o', 's.csv', '--frames', '-3'], [2], /--frames/],
  ['simulate --field 1e9', ['simulate', '-o', 's.csv', '--field', '1e9'], [1, 2], /field/],
  ['simulate --images --frames 1e12', ['simulate', '--images', '-o', 's.tif', '--frames', '1e12'], [1, 2], /frames/],
  ['simulate --images --pixel 0', ['simulate', '--images', '-o', 's.tif', '--pixel', '0'], [2], /--pixel/],
  // read-only folders
  ...(asRoot
    ? []
    : [
        ['locs -o into a read-only folder', ['locs', 'in.csv', '-o', 'ro/o.csv'], [2], /ro is not writable/],
        ['images --out-dir read-only', ['images', 'st.tif', '--out-dir', 'ro'], [2], /not writable/],
        ['run -o read-only/new', ['run', 'r.yaml', 'in.csv', '-o', 'ro/new'], [2], /not writable/],
        ['simulate into a read-only folder', ['simulate', '-o', 'ro/s.csv'], [2], /not writable/],
      ]),
  ['locs -o into a missing folder', ['locs', 'in.csv', '-o', 'nowhere/o.csv'], [2], /does not exist/],
  ['locs -o unknown extension', ['locs', 'in.csv', '-o', 'o.xyz'], [2], /xyz/],
  ['locs --per-frame .txt without pixel size', ['locs', 'in.csv', '-o', 'o.csv', '--per-frame', 'pf.txt'], [2], /pixel/],
];

/** Ctrl-C in each phase: [name, args, stderr line that starts the phase (or none), then ms, signal]. */
const signals = [
  ['SIGINT while locs reads', ['locs', 'big.csv', '-o', 'sig.csv'], null, 1500],
  ['SIGINT while locs correlates', ['locs', 'big.csv', '-o', 'sig.csv', '--binsize', '10', '--step', '200', '--window', '200'], /localizations/, 300],
  ['SIGINT while locs refines and writes', ['locs', 'big.csv', '-o', 'sig.csv', '--per-frame', 'sig_pf.csv', '--plot', 'sig.png'], /Locs_RCC:/, 100],
  ['SIGINT while images measures', ['images', 'bigst.tif', '-o', 'sig.tif'], /time points/, 300],
  ['SIGINT while images shifts and writes', ['images', 'bigst.tif', '-o', 'sig.tif', '--workers', '1'], /Image_RCC:/, 200],
  ['SIGINT while run runs', ['run', 'r.yaml', 'big.csv', '-o', 'sigrun'], /\[1\//, 300],
  ['SIGINT while run saves', ['run', 'r.yaml', 'big.csv', '-o', 'sigrun'], /Drift_Save/, 0],
  ['SIGINT while simulate works', ['simulate', '-o', 'sigsim.csv', '--locs', '3000000', '--frames', '30000'], null, 2500],
  ['SIGTERM while images writes', ['images', 'bigst.tif', '-o', 'sig.tif', '--workers', '1'], /Image_RCC:/, 300, 'SIGTERM'],
];

function check(name, args, codes, pattern, before) {
  const r = cli(args);
  const problems = [];
  if (!codes.includes(r.code)) problems.push(`exit ${r.code} (expected ${codes.join('/')})`);
  if (r.code !== 0 && !pattern.test(r.stderr)) problems.push(`message does not match ${pattern}`);
  if (/^\s+at /m.test(r.stderr)) problems.push('stack trace');
  if (/\b(ENOSPC|EISDIR|ENOENT|EACCES|EPERM|RangeError|TypeError|ReferenceError)\b/.test(r.stderr)) problems.push('raw error code');
  const after = snapshot();
  for (const [f, h] of before) {
    if (!after.has(f)) problems.push(`${f} removed`);
    else if (after.get(f) !== h) problems.push(`${f} modified`);
  }
  const created = [...after.keys()].filter((f) => !before.has(f));
  if (created.some((f) => f.endsWith('.tmp'))) problems.push(`temporaries left: ${created.filter((f) => f.endsWith('.tmp'))}`);
  if (r.code !== 0 && created.length) problems.push(`files left after a failure: ${created.join(', ')}`);
  for (const f of created) rmSync(join(dir, f), { force: true });
  for (const f of ['o.csv', 'o.tif', 'o.hdf', 'pad', 'sigrun']) rmSync(join(dir, f), { recursive: true, force: true });
  for (const d of ['../escaped.npz', '/tmp/ccdrift-audit-escaped.npz', '/tmp/ccdrift-audit-cor.tif']) {
    const p = d.startsWith('/') ? d : join(dir, d);
    if (existsSync(p)) {
      problems.push(`wrote outside: ${p}`);
      rmSync(p);
    }
  }
  const first = r.stderr.split('\n').find((l) => l.startsWith('ccdrift: error')) ?? r.stderr.split('\n')[0] ?? '';
  return { name, ok: problems.length === 0, problems, code: r.code, message: first.slice(0, 160) };
}

async function signalCase(name, args, waitFor, delay, signal = 'SIGINT') {
  const before = snapshot();
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let phaseStarted;
  const phase = new Promise((res) => (phaseStarted = res));
  if (!waitFor) phaseStarted();
  child.stderr.on('data', (d) => {
    stderr += d;
    if (waitFor?.test(stderr)) phaseStarted();
  });
  const exited = new Promise((res) => child.on('exit', (code, sig) => res(code ?? sig)));
  await Promise.race([phase, exited]);
  await new Promise((r) => setTimeout(r, delay));
  const sentAt = Date.now();
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  const took = Date.now() - sentAt;
  const problems = [];
  const expected = signal === 'SIGINT' ? 130 : 143;
  if (code === 0) problems.push('finished before the signal (make the case longer)');
  // Killed by the signal itself (a step with nothing to clean up keeps the default action): the shell reports 128 + n too.
  else if (code !== expected && code !== signal) problems.push(`exit ${code} (expected ${expected})`);
  if (took > 1500) problems.push(`took ${took} ms to stop`);
  if (/^\s+at /m.test(stderr)) problems.push('stack trace');
  const after = snapshot();
  const created = [...after.keys()].filter((f) => !before.has(f));
  if (code !== 0 && created.length) problems.push(`left: ${created.join(', ')}`);
  for (const [f, h] of before) if (after.get(f) !== h) problems.push(`${f} modified or removed`);
  for (const f of created) rmSync(join(dir, f), { force: true });
  rmSync(join(dir, 'sigrun'), { recursive: true, force: true });
  const stale = tmpLeftovers();
  if (stale.length) problems.push(`caches left in ${tmpdir()}: ${stale.join(', ')}`);
  return { name, ok: problems.length === 0, problems, code, message: `stopped ${took} ms after ${signal}` };
}

async function main() {
  setup();
  const results = [];
  for (const [name, args, codes, pattern] of cases) {
    if (filter && !name.includes(filter)) continue;
    const res = check(name, args, codes, pattern, snapshot());
    results.push(res);
    console.log(`${res.ok ? 'PASS' : 'FAIL'}  ${name}  [exit ${res.code}] ${res.ok ? res.message : res.problems.join('; ')}`);
  }
  if (!filter || filter.startsWith('SIG')) {
    cli(['simulate', '-o', 'big.csv', '--frames', '20000', '--locs', '400000', '-q']);
    cli(['simulate', '--images', '-o', 'bigst.tif', '--frames', '400', '-q']);
    for (const [name, args, waitFor, delay, signal] of signals) {
      if (filter && !name.includes(filter)) continue;
      const res = await signalCase(name, args, waitFor, delay, signal);
      results.push(res);
      console.log(`${res.ok ? 'PASS' : 'FAIL'}  ${name}  [exit ${res.code}] ${res.ok ? res.message : res.problems.join('; ')}`);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - failed} of ${results.length} cases handled well; ${failed} failed`);
  chmodSync(join(dir, 'ro'), 0o755);
  rmSync(dir, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  try {
    chmodSync(join(dir, 'ro'), 0o755);
  } catch {}
  process.exit(2);
});
