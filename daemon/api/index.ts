export * from './errors';
export * from './durations';
export * from './schemas';
export * from './operations';
export * from './events';
