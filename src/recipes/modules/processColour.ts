import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { defineModule } from '../declare.js';

/** PYME's `localisations.ProcessColour`: single-colour data passes through unchanged. */
export const processColour = defineModule({
  name: 'localisations.ProcessColour',
  summary: 'Colour assignment (PYME built-in). ccdrift handles single-colour data: the table passes through unchanged.',
  inputs: { input: { kind: 'table', default: 'Localizations', description: 'localization table' } },
  outputs: { output: { kind: 'table', default: 'colour_mapped', description: 'the same table' } },
  params: {
    species_ratios: {
      schema: z.record(z.string(), z.number()),
      default: {},
      description: 'ratiometric colour: species name → ratio',
      compatibility: 'accepted only empty: ccdrift does not assign colours (multi-colour data is corrected as one table)',
    },
    species_dyes: {
      schema: z.record(z.string(), z.string()),
      default: {},
      description: 'species name → dye',
      compatibility: 'accepted only empty: ccdrift does not assign colours',
    },
  },
  async run(_ctx, inputs, params) {
    for (const [name, v] of [
      ['species_ratios', params.species_ratios],
      ['species_dyes', params.species_dyes],
    ] as const) {
      if (Object.keys(v).length > 0) {
        throw new UsageError(`ProcessColour: ${name} is not supported (ccdrift corrects single-colour data); remove it or leave it empty`);
      }
    }
    return { output: inputs.input };
  },
});
