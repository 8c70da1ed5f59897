import { applyDriftToTable } from '../../core/drift/applyDriftToTable.js';
import { InputError } from '../../core/errors.js';
import type { DriftInterpolator } from '../../core/types.js';
import type { ModuleDecl } from '../declare.js';
import { requireTable } from './locsRcc.js';

export function requireInterpolator(value: unknown, slot: string): DriftInterpolator {
  const d = value as DriftInterpolator;
  if (!d || typeof d.evaluate !== 'function') throw new InputError(`input '${slot}' is not a drift interpolator`);
  return d;
}

export const locsPostShift: ModuleDecl = {
  name: 'chung_cc.Locs_Post_Shift',
  summary: 'Correct localizations: add the interpolated drift (columns dx, dy, dz) to x, y, z.',
  inputs: {
    input_localizations: { default: 'Localizations', description: 'table to correct' },
    input_drift_interpolator: { default: 'drift_interpolator', description: 'drift at any frame' },
  },
  outputs: { output_name: { default: 'corrected_localizations', description: 'corrected table (all other columns kept)' } },
  params: {},
  async run(_ctx, inputs) {
    const table = requireTable(inputs.input_localizations, 'input_localizations');
    const interp = requireInterpolator(inputs.input_drift_interpolator, 'input_drift_interpolator');
    return { output_name: applyDriftToTable(table, interp) };
  },
};
