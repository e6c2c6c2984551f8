export * from './notifier';
export * from './format';
export * from './grouper';
export * from './app-opener';
