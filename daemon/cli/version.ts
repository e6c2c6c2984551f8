// A named import: the bundler keeps only this field of package.json.
import { version } from '../../package.json';

/** The version of this bella. */
export const VERSION: string = version;
