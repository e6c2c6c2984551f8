import type { DesktopNotifier } from '../../daemon/notify';

/** A desktop notifier for unit tests of services: records each title it is asked to show in `sent`. */
export function fakeNotifier(sent: string[]): DesktopNotifier {
  return {
    notify: async (n) => {
      sent.push(n.title);
      return { sent: true, problem: null };
    },
    health: () => ({ available: true, problem: null }),
    stats: () => ({
      requested: 0,
      spawned: 0,
      sent: 0,
      failed: 0,
      timedOut: 0,
      dropped: 0,
      coalesced: 0,
      inFlight: 0,
      maxInFlight: 0,
      queued: 0,
    }),
    close: async () => undefined,
  };
}
