import { useSyncExternalStore } from 'react';

const subscribers = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let now = Date.now();

function subscribe(cb: () => void): () => void {
  subscribers.add(cb);
  if (!timer) {
    now = Date.now();
    // The one timer of the app: a 1-second tick that only redraws countdowns; data never polls.
    timer = setInterval(() => {
      now = Date.now();
      for (const s of subscribers) s();
    }, 1000);
  }
  return () => {
    subscribers.delete(cb);
    if (subscribers.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The current time in ms, refreshed every second while some component uses it. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
