import type { BellaApi } from './contract';

declare global {
  interface Window {
    /** The preload API: one function per admin operation plus `onEvent`. */
    readonly bella: BellaApi;
  }
}

export {};
