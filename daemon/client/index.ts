export * from './client';
export * from './paths';
export * from './spawn';
