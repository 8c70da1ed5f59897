/** Registers every file format; import this once before calling the readers/writers. */
import { csvFormat } from './csv.js';
import { registerImageFormat, registerTableFormat } from './formats.js';
import { picassoFormat, pymeImageFormat, pymeTableFormat } from './hdf5/index.js';
import { tiffFormat } from './tiff.js';

registerTableFormat(csvFormat);
registerTableFormat(pymeTableFormat);
registerTableFormat(picassoFormat);
registerImageFormat(pymeImageFormat);
registerImageFormat(tiffFormat);

export * from './formats.js';
