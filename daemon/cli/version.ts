import pkg from '../../package.json' with { type: 'json' };

/** The version of this bella. */
export const VERSION: string = pkg.version;
