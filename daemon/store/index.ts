export * from './audit/entry';
export type { VerifyResult } from './audit/verify';
export type { IndexFilter } from './audit/segment-index';
export * from './clock';
export * from './crypto';
export * from './schema';
export * from './snapshot';
export * from './store';
export * from './lease-archive';
