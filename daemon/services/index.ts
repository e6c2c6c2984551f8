import { AuditService } from './audit';
import type { ServiceContext } from './context';
import { LeasesService } from './leases';
import type { DesktopNotifier } from '../notify';
import { NotificationsService } from './notifications';
import { ProjectsService } from './projects';
import { SecretsService } from './secrets';

export * from './context';
export { effectiveStatus, toLease } from './leases';

/** All services of one daemon, sharing one context. */
export interface Services {
  ctx: ServiceContext;
  projects: ProjectsService;
  secrets: SecretsService;
  leases: LeasesService;
  audit: AuditService;
  notifications: NotificationsService;
}

/** Builds the services over a context. */
export function createServices(ctx: ServiceContext, notifier: DesktopNotifier): Services {
  const secrets = new SecretsService(ctx);
  return {
    ctx,
    secrets,
    projects: new ProjectsService(ctx, secrets),
    leases: new LeasesService(ctx, secrets),
    audit: new AuditService(ctx),
    notifications: new NotificationsService(ctx, notifier),
  };
}
