import type { StateStore } from '../store';
import type { EventBus } from './events';

/** What every service needs. Time is the store's clock, which never runs backwards. */
export interface ServiceContext {
  store: StateStore;
  /** Now, in ms since the epoch, for every expiry decision. */
  clock: () => number;
  events: EventBus;
  log: (message: string) => void;
}

/** Who is acting, as recorded in the audit trail. */
export type Actor = 'owner' | 'token' | 'daemon' | `ci:${string}` | `${string} (device sha256:${string})`;
