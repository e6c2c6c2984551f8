export * from './audit-log';
export * from './crypto';
export * from './schema';
export * from './store';
export * from './lease-archive';
