import type { Services } from '../../services';
import type { Handlers } from '../handlers';

/** Daemon status and shutdown. */
export function systemRoutes(
  services: Services,
  info: { version: string; startedAt: string; socket: string; stop: () => void },
) {
  return {
    status: () => {
      const { store, clock } = services.ctx;
      const now = clock();
      const projects = Object.values(store.state.projects);
      const envs = projects.flatMap((p) => Object.values(p.environments));
      let activeLeases = 0;
      for (const lease of store.state.leases.values())
        if (lease.status === 'active' && lease.expiresAt > now) activeLeases++;
      return {
        version: info.version,
        pid: process.pid,
        startedAt: info.startedAt,
        dataDir: store.home,
        socket: info.socket,
        counts: {
          projects: projects.length,
          environments: envs.length,
          secrets: envs.reduce((n, e) => n + Object.keys(e.secrets).length, 0),
          activeLeases,
        },
        notifications: services.notifications.health(),
      };
    },
    shutdown: () => {
      setImmediate(info.stop);
      return { stopping: true as const };
    },
  } satisfies Partial<Handlers>;
}
