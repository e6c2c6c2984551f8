export * from './types';
export * from './outbox';
export * from './sign';
export * from './send';
export * from './payloads';
export * from './dispatcher';
export * from './address';
