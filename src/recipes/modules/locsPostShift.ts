import { applyDriftToTable } from '../../core/drift/applyDriftToTable.js';
import { defineModule } from '../declare.js';

export const locsPostShift = defineModule({
  name: 'chung_cc.Locs_Post_Shift',
  summary: 'Correct localizations: add the interpolated drift (columns dx, dy, dz) to x, y, z.',
  inputs: {
    input_localizations: { kind: 'table', default: 'Localizations', description: 'table to correct' },
    input_drift_interpolator: { kind: 'interpolator', default: 'drift_interpolator', description: 'drift at any frame' },
  },
  outputs: { output_name: { kind: 'table', default: 'corrected_localizations', description: 'corrected table (all other columns kept)' } },
  params: {},
  async run(_ctx, inputs) {
    const table = inputs.input_localizations;
    const interp = inputs.input_drift_interpolator;
    return { output_name: applyDriftToTable(table, interp) };
  },
});
