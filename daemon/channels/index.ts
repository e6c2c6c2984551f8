export * from './types';
export * from './outbox-items';
export * from './sign';
export * from './send';
export * from './payloads';
export * from './dispatcher';
export * from './address';
