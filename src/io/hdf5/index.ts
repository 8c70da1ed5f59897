/** HDF5 formats: PYME localizations (.hdf, .h5r), PYME image stacks (.h5), Picasso (.hdf5 + .yaml). */
export { pymeTableFormat, readPymeTable, writePymeTable } from './pymeTable.js';
export { picassoFormat, readPicasso, writePicasso } from './picasso.js';
export { pymeImageFormat, readPymeImage, writePymeImage } from './pymeImage.js';
export { describeHdf5 } from './describeHdf5.js';
