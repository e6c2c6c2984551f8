import type { DaemonStatus, StorageStatus } from '../api';
import type { ChannelsService } from './channels';
import type { DbLogins } from './databases/logins';
import type { LeaseLifecycle } from './lease-lifecycle';
import type { DesktopNotificationsService } from './desktop-notifications';
import type { ServiceContext } from './service-context';

/** What the daemon knows of itself beyond the services: its version, start time and socket. */
export interface DaemonInfo {
  version: string;
  startedAt: string;
  socket: string;
  /** Where the state is kept, and this node's role when it is shared. */
  storage: () => StorageStatus | Promise<StorageStatus>;
}

/** `bella daemon status`: what the daemon holds and whether anything needs the owner's attention. */
export async function daemonStatus(
  ctx: ServiceContext,
  lifecycle: LeaseLifecycle,
  desktop: DesktopNotificationsService,
  channels: ChannelsService,
  info: DaemonInfo,
  dbLogins?: DbLogins,
): Promise<DaemonStatus> {
  const projects = Object.values(ctx.store.state.projects);
  const envs = projects.flatMap((p) => Object.values(p.environments));
  let activeLeases = 0;
  for (const n of lifecycle.activeCounts().values()) activeLeases += n;
  return {
    version: info.version,
    pid: process.pid,
    startedAt: info.startedAt,
    dataDir: ctx.store.home,
    socket: info.socket,
    counts: {
      projects: projects.length,
      environments: envs.length,
      secrets: envs.reduce((n, e) => n + Object.keys(e.secrets).length, 0),
      activeLeases,
    },
    notifications: desktop.health(),
    problems: [...ctx.store.problems(), ...channels.problems(), ...(dbLogins?.problems() ?? [])],
    storage: await info.storage(),
  };
}
