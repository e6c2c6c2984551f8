import type { Services } from '../../services';
import { daemonStatus, type DaemonInfo } from '../../services/status';
import type { Handlers } from '../handler-types';

/** Daemon status and shutdown. */
export function systemRoutes(services: Services, info: DaemonInfo & { stop: () => void }) {
  return {
    status: () =>
      daemonStatus(
        services.ctx,
        services.lifecycle,
        services.desktopNotifications,
        services.channels,
        info,
        services.dbLogins,
      ),
    shutdown: () => {
      setImmediate(info.stop);
      return { stopping: true as const };
    },
  } satisfies Partial<Handlers>;
}
