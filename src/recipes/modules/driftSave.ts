import { isAbsolute, resolve } from 'node:path';
import { writeDriftNpz } from '../../io/npz.js';
import { defineModule, schemas } from '../declare.js';

export const driftSave = defineModule({
  name: 'chung_cc.Drift_Save',
  summary: 'Save drift samples as a numpy .npz (keys tIndex, drift), interchangeable with the original plugin.',
  inputs: { input_name: { kind: 'drift', default: 'drift', description: 'drift samples to save' } },
  outputs: { output_dummy: { kind: 'any', default: 'dummy', description: 'placeholder output so the module can be scheduled' } },
  params: {
    save_path: { schema: schemas.path, default: 'drift', description: "file to write, relative to the working directory ('.npz' is appended when missing)" },
  },
  async run(ctx, inputs, params) {
    const trace = inputs.input_name;
    const p = params.save_path;
    const written = await writeDriftNpz(isAbsolute(p) ? p : resolve(ctx.cwd, p), trace);
    return { output_dummy: written };
  },
});
