import { describe, expect, it } from 'vitest';
import { applyDriftToTable } from '../../../src/core/drift/applyDriftToTable.js';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';

const drift = createDriftInterpolator([
  {
    t: Float64Array.of(0, 100, 200, 300, 400),
    x: Float64Array.of(0, 5, 3, -2, 7),
    y: Float64Array.of(0, -1, -4, 2, 1),
    z: Float64Array.of(0, 1, 2, 3, 4),
  },
]);

describe('applyDriftToTable', () => {
  it('gives exactly the interpolator at each row, for whole frames (per-frame lookup) and fractional ones', () => {
    for (const t of [Int32Array.of(250, 3, 3, 420, -5, 0, 250, 399), Float64Array.of(250.5, 3, 3.25, 420, -5, 0, 250, 399)]) {
      const n = t.length;
      const x = Float64Array.from({ length: n }, (_, i) => 10 * i);
      const table = {
        length: n,
        columns: new Map<string, ArrayLike<number>>([
          ['x', x],
          ['y', new Float32Array(n)],
          ['t', t],
        ]),
        metadata: {},
      };
      const out = applyDriftToTable(table as never, drift);
      const ref = drift.evaluate(t);
      for (let i = 0; i < n; i++) {
        expect(out.columns.get('dx')![i]).toBe(ref.x[i]);
        expect(out.columns.get('dy')![i]).toBe(ref.y[i]);
        expect(out.columns.get('dz')![i]).toBe(ref.z[i]);
        expect(out.columns.get('x')![i]).toBe(x[i] + ref.x[i]);
      }
    }
  });
});
