export * from './client';
export * from './connector';
export * from './paths';
export { daemonLogPath, reasonFromLog, type EnsureDaemonOptions } from './spawn';
export * from './remote';
export * from './response';
