import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import type { DriftTrace } from '../../src/core/types.js';
import { readDriftFile, writeDriftFile } from '../../src/io/driftFiles.js';
import { parsePerFrameDriftCsv, parsePicassoDriftTxt } from '../../src/io/driftText.js';
import { formatThunderstormDriftJson, parseThunderstormDriftJson } from '../../src/io/thunderstormDrift.js';
import { expectClose } from '../helpers/expectClose.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-driftfiles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Text round trips lose nothing beyond float64 printing (shortest round-trip or %.18e). */
const ROUND_TRIP_NM = 1e-9;

function perFrame(n: number, first = 0, withZ = true): DriftTrace {
  return {
    t: Float64Array.from({ length: n }, (_, i) => first + i),
    x: Float64Array.from({ length: n }, (_, i) => 12.5 * Math.sin(i / 7) + i / 3),
    y: Float64Array.from({ length: n }, (_, i) => -0.75 * i),
    z: Float64Array.from({ length: n }, (_, i) => (withZ ? 40 * Math.cos(i / 11) : 0)),
  };
}

describe('Picasso drift .txt: the drift Picasso subtracts, pixels (z nm)', () => {
  it('reads rows as frames 0, 1, … and negates/scales to the correction to add in nm', () => {
    const text = '# dx\tdy\r\n1.0 -2.0 3.0\r\n\r\n0.5\t0.25\t-4\r\n';
    const trace = parsePicassoDriftTxt(text, 'd.txt', 100);
    expect(Array.from(trace.t)).toEqual([0, 1]);
    expect(Array.from(trace.x)).toEqual([-100, -50]);
    expect(Array.from(trace.y)).toEqual([200, -25]);
    expect(Array.from(trace.z)).toEqual([-3, 4]); // z is nm already
  });
  it('needs a pixel size, names ragged rows and non-numbers', () => {
    expect(() => parsePicassoDriftTxt('1 2\n', 'd.txt', undefined)).toThrow(UsageError);
    expect(() => parsePicassoDriftTxt('1 2\n3 4 5\n', 'd.txt', 100)).toThrow(/line 2: 3 columns, the first row has 2/);
    expect(() => parsePicassoDriftTxt('1 2\n3 x\n', 'd.txt', 100)).toThrow(/line 2, column y: 'x' is not a finite number/);
    expect(() => parsePicassoDriftTxt('1\n', 'd.txt', 100)).toThrow(/1 columns; a Picasso drift file has 2/);
  });
  it('writes and reads back the same trace (2D and 3D)', async () => {
    for (const withZ of [true, false]) {
      const trace = perFrame(50, 0, withZ);
      const path = join(tmp, `p${withZ ? 3 : 2}.txt`);
      await writeDriftFile(path, trace, { pixelSizeNm: 108 });
      expect(readFileSync(path, 'utf8').split('\r\n')[0].split(' ')).toHaveLength(withZ ? 3 : 2);
      const back = await readDriftFile(path, { pixelSizeNm: 108 });
      expect(back.kind).toBe('picasso-txt');
      expect(back.perFrame).toBe(true);
      for (const a of ['t', 'x', 'y', 'z'] as const) expectClose(back.trace[a], trace[a], { atol: ROUND_TRIP_NM }, a);
    }
  });
});

describe("ccdrift's per-frame CSV: the correction to add, nm", () => {
  it('t counts from 0; frame (ThunderSTORM tables) from 1', async () => {
    const trace = perFrame(20, 5);
    for (const frameBase of [0, 1] as const) {
      const path = join(tmp, `pf${frameBase}.csv`);
      await writeDriftFile(path, trace, { frameBase });
      const lines = readFileSync(path, 'utf8').split('\n');
      expect(lines[0]).toBe(frameBase ? 'frame,x,y,z' : 't,x,y,z');
      expect(lines[1].split(',')[0]).toBe(String(5 + frameBase));
      const back = await readDriftFile(path);
      expect(back.frameBase).toBe(frameBase);
      for (const a of ['t', 'x', 'y', 'z'] as const) expectClose(back.trace[a], trace[a], { atol: 0 }, a);
    }
  });
  it('accepts x [nm] headers, no z, CRLF; refuses other headers and decreasing frames', () => {
    const { trace } = parsePerFrameDriftCsv('t,x [nm],y [nm]\r\n0,1,2\r\n1,3,4\r\n', 'a.csv');
    expect(Array.from(trace.x)).toEqual([1, 3]);
    expect(Array.from(trace.z)).toEqual([0, 0]);
    expect(() => parsePerFrameDriftCsv('a,b\n1,2\n', 'a.csv')).toThrow(/columns t \(or frame, 1-based\), x, y/);
    expect(() => parsePerFrameDriftCsv('t,x,y\n1,0,0\n0,0,0\n', 'a.csv')).toThrow(/frames must increase/);
  });
});

describe('ThunderSTORM drift .json: splines of the 1-based frame, the drift ThunderSTORM subtracts', () => {
  /** As Gson writes DriftResults: commons-math PolynomialSplineFunction, ascending coefficients. */
  const handMade = {
    xFunction: { knots: [1, 3, 5], polynomials: [{ coefficients: [0, 1, 0.5] }, { coefficients: [4, 3] }], n: 2 },
    yFunction: { knots: [1, 5], polynomials: [{ coefficients: [2, -1] }], n: 1 },
    driftDataFrame: [1, 3, 5],
    driftDataX: [0, 4, 10],
    driftDataY: [2, 0, -2],
    minFrame: 1,
    maxFrame: 5,
    units: 'PIXEL',
  };
  it('evaluates the pieces at every whole frame: t = frame − 1, x = −value × pixel size', () => {
    const trace = parseThunderstormDriftJson(JSON.stringify(handMade), 'ts.json', 10);
    expect(Array.from(trace.t)).toEqual([0, 1, 2, 3, 4]);
    // x(f) = (f−1) + 0.5 (f−1)² on [1, 3], 4 + 3 (f−3) on [3, 5]
    expect(Array.from(trace.x)).toEqual([0, -15, -40, -70, -100]);
    expect(Array.from(trace.y)).toEqual([-20, -10, 0, 10, 20]);
    expect(Array.from(trace.z)).toEqual([0, 0, 0, 0, 0]);
  });
  it('NANOMETER and MICROMETER need no pixel size; PIXEL does', () => {
    expect(parseThunderstormDriftJson(JSON.stringify({ ...handMade, units: 'MICROMETER' }), 'ts.json').x[1]).toBe(-1500);
    expect(() => parseThunderstormDriftJson(JSON.stringify(handMade), 'ts.json')).toThrow(/camera pixels.*`pixelSizeNm`/);
    expect(() => parseThunderstormDriftJson('{"a":1}', 'ts.json')).toThrow(InputError);
    expect(() => parseThunderstormDriftJson('{', 'ts.json')).toThrow(/not valid JSON/);
  });
  it('ccdrift writes NANOMETER, piecewise linear through every frame; it reads back exactly', async () => {
    const trace = perFrame(40, 0, false);
    const doc = JSON.parse(formatThunderstormDriftJson(trace));
    expect(doc.units).toBe('NANOMETER');
    expect(doc.xFunction.knots[0]).toBe(1);
    expect(doc.xFunction.polynomials).toHaveLength(39);
    expect(doc.driftDataX[5]).toBeCloseTo(-trace.x[5], 12);
    const path = join(tmp, 'w.json');
    await writeDriftFile(path, trace);
    const back = await readDriftFile(path);
    expect(back.frameBase).toBe(1);
    for (const a of ['t', 'x', 'y'] as const) expectClose(back.trace[a], trace[a], { atol: ROUND_TRIP_NM }, a);
  });
});

describe('readDriftFile', () => {
  it('reads .npz as samples and refuses unknown extensions', async () => {
    const trace = perFrame(5);
    const path = join(tmp, 's.npz');
    await writeDriftFile(path, trace);
    const back = await readDriftFile(path);
    expect(back.perFrame).toBe(false);
    expectClose(back.trace.x, trace.x, { atol: 0 });
    writeFileSync(join(tmp, 'd.dat'), '1 2\n');
    await expect(readDriftFile(join(tmp, 'd.dat'))).rejects.toThrow(/not a drift file ccdrift reads.*\.npz.*\.txt.*\.csv.*\.json/);
  });
});
