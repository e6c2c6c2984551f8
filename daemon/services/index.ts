import type { AppOpener, DesktopNotifier } from '../notify';
import type { StateStore } from '../store';
import { AuditService } from './audit';
import type { CiLoginService } from './ci/login';
import { CiTrustsService } from './ci/trusts';
import { DatabasesService } from './databases/databases';
import { DbLogins, type DbLoginOptions } from './databases/logins';
import { Rotations } from './databases/rotation';
import { PostgresAdmin } from './databases/postgres';
import type { IssuerKeysOptions } from './ci/issuer-keys';
import { ChannelsService, type ChannelOptions } from './channels';
import type { EventBus } from './events';
import { LeaseLifecycle } from './lease-lifecycle';
import { LeasesService } from './leases';
import { Maintenance, type MaintenanceOptions } from './maintenance';
import { DesktopNotificationsService } from './desktop-notifications';
import { ProjectsService } from './projects';
import { RefusalLog } from './refusals';
import { SecretsService } from './secrets';
import { SecretHistoryService } from './secret-history';
import type { ServiceContext } from './service-context';
import { TokenPlaneService } from './token-plane';
import { TeamService } from './team/members';
import { AccessRequestsService } from './team/requests';

export * from './events';
export * from './service-context';
export { toLease } from './lease-rules';
export type { MaintenanceOptions } from './maintenance';
export type { DbLoginOptions } from './databases/logins';
export type { TokenRequest } from './token-plane';
export { actingAs, type Caller } from './team/caller';
export { authorize } from './team/access';
export { deviceFingerprint } from './team/device-key';

/** All services of one daemon, sharing one context. */
export interface Services {
  ctx: ServiceContext;
  projects: ProjectsService;
  secrets: SecretsService;
  /** Secret history (versions, rollback) and trash (restore, purge). */
  history: SecretHistoryService;
  leases: LeasesService;
  /** The token plane: what a `bax-` token's holder may do. */
  tokenPlane: TokenPlaneService;
  refusals: RefusalLog;
  audit: AuditService;
  /** Desktop notifications: the per-environment settings and sending them. */
  desktopNotifications: DesktopNotificationsService;
  channels: ChannelsService;
  lifecycle: LeaseLifecycle;
  maintenance: Maintenance;
  /** CI trusts (admin plane) and the exchange of a CI job's JWT for a lease (token plane). */
  ciTrusts: CiTrustsService;
  ciLogin: Pick<CiLoginService, 'login'>;
  /** Teammates: invites, devices, grants (issue 17). */
  team: TeamService;
  /** Databases (admin plane) and the login roles of leases with `--db`. */
  databases: DatabasesService;
  /** Database-linked secrets: `secrets rotate`, `expire-all --rotate`. */
  rotations: Rotations;
  dbLogins: DbLogins;
  postgres: PostgresAdmin;
  requests: AccessRequestsService;
}

/** Builds the services over a store; their clock is the store's, which never runs backwards. */
export function createServices(
  base: { store: StateStore; events: EventBus; log: (message: string) => void },
  notifier: DesktopNotifier,
  maintenance: MaintenanceOptions,
  channelOptions: ChannelOptions = {},
  ciOptions: IssuerKeysOptions = {},
  dbOptions: DbLoginOptions = {},
  /** Opens the desktop app on a screen: a notification's action (null: notifications carry none). */
  opener: AppOpener | null = null,
): Services {
  const ctx: ServiceContext = { ...base, clock: () => base.store.clock.now() };
  const secrets = new SecretsService(ctx);
  const desktopNotifications = new DesktopNotificationsService(ctx, notifier, opener);
  const channels = new ChannelsService(ctx, desktopNotifications, channelOptions);
  const lifecycle = new LeaseLifecycle(ctx, desktopNotifications, channels);
  const refusals = new RefusalLog(ctx, channels);
  const postgres = new PostgresAdmin(base.log);
  const databases = new DatabasesService(ctx, secrets, postgres);
  const dbLogins = new DbLogins(ctx, secrets, databases, postgres, channels, desktopNotifications, dbOptions);
  dbLogins.attachLifecycle(lifecycle);
  const rotations = new Rotations(ctx, secrets, databases, postgres);
  return {
    ctx,
    secrets,
    history: new SecretHistoryService(ctx, secrets),
    projects: new ProjectsService(ctx, secrets, lifecycle),
    leases: new LeasesService(ctx, secrets, lifecycle, databases, dbLogins, rotations),
    tokenPlane: new TokenPlaneService(ctx, secrets, lifecycle, refusals, dbLogins),
    databases,
    rotations,
    dbLogins,
    postgres,
    refusals,
    audit: new AuditService(ctx),
    desktopNotifications,
    channels,
    lifecycle,
    maintenance: new Maintenance(ctx, lifecycle, maintenance),
    ciTrusts: new CiTrustsService(ctx),
    ciLogin: lazyCiLogin(() => import('./ci/login'), ctx, lifecycle, refusals, dbLogins, ciOptions),
    team: new TeamService(ctx, lifecycle),
    requests: new AccessRequestsService(ctx, lifecycle, desktopNotifications, channels, dbLogins),
  };
}

/**
 * The CI login service, built at the first CI login: jose and the issuer key cache stay out of a
 * daemon that never sees one (issue 21). Same arguments as {@link CiLoginService}'s constructor.
 */
function lazyCiLogin(
  load: () => Promise<typeof import('./ci/login')>,
  ...args: ConstructorParameters<typeof CiLoginService>
): Pick<CiLoginService, 'login'> {
  let service: Promise<CiLoginService> | undefined;
  return {
    async login(req, input) {
      service ??= load().then(
        ({ CiLoginService: Service }) => new Service(...args),
        (err: unknown) => {
          service = undefined;
          throw err;
        },
      );
      return (await service).login(req, input);
    },
  };
}
