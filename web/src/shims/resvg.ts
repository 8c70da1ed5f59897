/**
 * `@resvg/resvg-js` (a native Node module the CLI uses to turn plot SVG into PNG) is not
 * available in the browser; the page renders its PNG with vega's canvas renderer instead.
 */
export class Resvg {
  constructor() {
    throw new Error('PNG rendering with resvg is not available in the browser');
  }
}
export default { Resvg };
