export * from './errors';
export * from './durations';
export * from './types';
export * from './schemas';
export * from './operations';
export * from './events';
export * from './channels';
export * from './ci';
