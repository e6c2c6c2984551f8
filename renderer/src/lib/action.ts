import { useCallback, useEffect, useRef, useState } from 'react';

/** What an action says when it is done: a line of success, or of failure told as a result (a test not delivered). */
export interface Notice {
  tone: 'success' | 'error';
  text: string;
}

/** The state of a screen's actions, from {@link useAction}; shown by `ActionNotes`. */
export interface ActionState {
  /** The key of the action under way (a row's id, `save`, …), or null when none is. */
  busy: string | null;
  /** What the last action threw. */
  error: unknown;
  notice: Notice | null;
  /**
   * Runs `work` as the action `key`: clears the last error and notice, marks `key` busy, and keeps
   * what `work` returns (a text is a success notice) or throws. Resolves true when it succeeded.
   */
  run(key: string, work: () => Promise<Notice | string | void>): Promise<boolean>;
  /** Says something without running an action (a dialog's outcome). */
  say(notice: Notice | string | null): void;
  dismissError(): void;
}

function toNotice(n: Notice | string | null | void): Notice | null {
  if (n === undefined || n === null) return null;
  return typeof n === 'string' ? { tone: 'success', text: n } : n;
}

/**
 * Busy, error and notice of the actions on one screen or dialog: one action at a time, its outcome
 * shown where it was started. `noticeMs` clears a notice after that long (lists whose rows change).
 */
export function useAction({ noticeMs }: { noticeMs?: number } = {}): ActionState {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);

  useEffect(() => {
    if (!notice || noticeMs === undefined) return;
    const t = setTimeout(() => setNotice(null), noticeMs);
    return () => clearTimeout(t);
  }, [notice, noticeMs]);

  const run = useCallback(async (key: string, work: () => Promise<Notice | string | void>) => {
    setBusy(key);
    setError(null);
    setNotice(null);
    try {
      const said = toNotice(await work());
      if (live.current && said) setNotice(said);
      return true;
    } catch (err) {
      if (live.current) setError(err);
      return false;
    } finally {
      if (live.current) setBusy(null);
    }
  }, []);
  const say = useCallback((n: Notice | string | null) => {
    setError(null);
    setNotice(toNotice(n));
  }, []);
  const dismissError = useCallback(() => setError(null), []);

  return { busy, error, notice, run, say, dismissError };
}
