import { useEffect, useRef, useState } from 'react';
import type { DaemonEvent } from '../../../daemon/api/events';
import { bella } from './bella';

type Listener = (event: DaemonEvent) => void;

const listeners = new Set<Listener>();
let stop: (() => void) | null = null;

/** Subscribes once to the daemon's event stream and fans events out to the hooks below. */
export function startEventStream(): () => void {
  if (!stop) {
    stop = bella().onEvent((event) => {
      for (const l of [...listeners]) l(event);
    });
  }
  return () => {
    stop?.();
    stop = null;
  };
}

/** Calls `cb` for each daemon event while the component is mounted. */
export function useDaemonEvent(cb: Listener): void {
  const ref = useRef(cb);
  ref.current = cb;
  useEffect(() => {
    const l: Listener = (e) => ref.current(e);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
}

/** A number that grows each time a matching event arrives: put it in an effect's deps to refetch. */
export function useRevision(match: (event: DaemonEvent) => boolean): number {
  const [rev, setRev] = useState(0);
  useDaemonEvent((e) => {
    if (match(e)) setRev((r) => r + 1);
  });
  return rev;
}

/** True when an event concerns the given environment (or, without one, the given project). */
export function concerns(e: DaemonEvent, project?: string, environment?: string): boolean {
  if (project !== undefined && e.project !== undefined && e.project !== project) return false;
  if (environment !== undefined && e.environment !== undefined && e.environment !== environment) return false;
  return true;
}

/** True for the lease lifecycle events. */
export function isLeaseEvent(e: DaemonEvent): boolean {
  return e.type !== 'DataChanged';
}
