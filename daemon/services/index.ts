import type { DesktopNotifier } from '../notify';
import type { Store } from '../store';
import { AuditService } from './audit';
import { ChannelsService, type ChannelOptions } from './channels';
import type { EventBus } from './events';
import { LeaseLifecycle } from './lease-lifecycle';
import { LeasesService } from './leases';
import { Maintenance, type MaintenanceOptions } from './maintenance';
import { NotificationsService } from './notifications';
import { ProjectsService } from './projects';
import { RefusalLog } from './refusals';
import { SecretsService } from './secrets';
import type { ServiceContext } from './service-context';
import { TokenPlane } from './token-plane';

export * from './events';
export * from './service-context';
export { toLease } from './lease-lifecycle';
export type { MaintenanceOptions } from './maintenance';
export type { TokenRequest } from './token-plane';

/** All services of one daemon, sharing one context. */
export interface Services {
  ctx: ServiceContext;
  projects: ProjectsService;
  secrets: SecretsService;
  leases: LeasesService;
  tokens: TokenPlane;
  refusals: RefusalLog;
  audit: AuditService;
  notifications: NotificationsService;
  channels: ChannelsService;
  lifecycle: LeaseLifecycle;
  maintenance: Maintenance;
}

/** Builds the services over a store; their clock is the store's, which never runs backwards. */
export function createServices(
  base: { store: Store; events: EventBus; log: (message: string) => void },
  notifier: DesktopNotifier,
  maintenance: MaintenanceOptions,
  channelOptions: ChannelOptions = {},
): Services {
  const ctx: ServiceContext = { ...base, clock: () => base.store.clock.now() };
  const secrets = new SecretsService(ctx);
  const notifications = new NotificationsService(ctx, notifier);
  const channels = new ChannelsService(ctx, notifications, channelOptions);
  const lifecycle = new LeaseLifecycle(ctx, notifications, channels);
  const refusals = new RefusalLog(ctx, channels);
  return {
    ctx,
    secrets,
    projects: new ProjectsService(ctx, secrets, lifecycle),
    leases: new LeasesService(ctx, secrets, lifecycle),
    tokens: new TokenPlane(ctx, secrets, lifecycle, refusals),
    refusals,
    audit: new AuditService(ctx),
    notifications,
    channels,
    lifecycle,
    maintenance: new Maintenance(ctx, lifecycle, maintenance),
  };
}
