export * from './client';
export * from './paths';
export * from './spawn';
export * from './remote';
export * from './response';
