import { afterEach } from 'vitest';
import { restartDaemon, startIn, tempPlace, type DaemonHandle, type DaemonPlace, type StartOptions } from './daemon';

/**
 * Daemons a test file starts and restarts, each in its own temp place, all stopped and removed
 * after each test (registered with `afterEach`).
 */
export function daemonPool(prefix: string) {
  const places: DaemonPlace[] = [];
  const daemons: DaemonHandle[] = [];
  afterEach(async () => {
    for (const d of daemons.splice(0)) await d.stop().catch(() => undefined);
    for (const p of places.splice(0)) p.cleanup();
  });
  /** A temp place, removed after the test. */
  const newPlace = (): DaemonPlace => {
    const place = tempPlace(prefix);
    places.push(place);
    return place;
  };
  return {
    place: newPlace,
    /** A daemon in a new temp place (or in `place`, one from {@link place}). */
    async start(
      extra: Partial<StartOptions> = {},
      place: DaemonPlace = newPlace(),
    ): Promise<{ place: DaemonPlace; daemon: DaemonHandle }> {
      const daemon = await startIn(place, extra);
      daemons.push(daemon);
      return { place, daemon };
    },
    /** The same data dir and socket again, once `daemon` has exited (stop or kill9 it first). */
    async restart(daemon: DaemonHandle, extra: Partial<StartOptions> = {}): Promise<DaemonHandle> {
      const next = await restartDaemon(daemon, extra);
      daemons.push(next);
      return next;
    },
  };
}
