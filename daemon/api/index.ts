export * from './errors';
export * from './durations';
export * from './schemas';
export * from './operations';
export { LEASE_STATUSES, OUTCOMES } from './types';
export * from './events';
