import type { DesktopNotifier } from '../notify';
import { dataFiles, LeaseArchive } from '../store';
import { AuditService } from './audit';
import type { LeaseWatcher, ServiceContext } from './context';
import { ExpiryEngine } from './expiry';
import { LeasesService } from './leases';
import { Maintenance, type MaintenanceOptions } from './maintenance';
import { NotificationsService } from './notifications';
import { ProjectsService } from './projects';
import { SecretsService } from './secrets';

export * from './context';
export { effectiveStatus, toLease } from './leases';
export type { MaintenanceOptions } from './maintenance';

/** All services of one daemon, sharing one context. */
export interface Services {
  ctx: ServiceContext;
  projects: ProjectsService;
  secrets: SecretsService;
  leases: LeasesService;
  audit: AuditService;
  notifications: NotificationsService;
  expiry: ExpiryEngine;
  maintenance: Maintenance;
}

/** Builds the services over a context; the expiry engine watches every lease change. */
export function createServices(
  base: Omit<ServiceContext, 'watcher'>,
  notifier: DesktopNotifier,
  maintenance: MaintenanceOptions,
): Services {
  const unwatched: LeaseWatcher = { changed: () => undefined, ended: () => undefined };
  const ctx: ServiceContext = { ...base, watcher: unwatched };
  const archive = new LeaseArchive(dataFiles(ctx.store.home).leaseArchive);
  const secrets = new SecretsService(ctx);
  const notifications = new NotificationsService(ctx, notifier);
  const expiry = new ExpiryEngine(ctx, notifications);
  ctx.watcher = expiry;
  return {
    ctx,
    secrets,
    projects: new ProjectsService(ctx, secrets),
    leases: new LeasesService(ctx, secrets, archive),
    audit: new AuditService(ctx),
    notifications,
    expiry,
    maintenance: new Maintenance(ctx, archive, maintenance),
  };
}
