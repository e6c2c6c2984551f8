import * as z from 'zod';
import {
  AuditEventSchema,
  EnvironmentRef,
  Flag,
  LeaseRef,
  LeaseStatusSchema,
  OutcomeSchema,
  Reason,
  ProjectRef,
  ScopeEntry,
  SecretKey,
  SecretValue,
  Seconds,
  Slug,
} from './schemas';
import { CHANNEL_EVENTS, CHANNEL_KINDS } from './channels';
import { formatDuration } from './durations';
import { routes, type OperationName } from './routes';
import { ciInputs } from './ci-inputs';
import { historyInputs } from './history-inputs';
import { teamInputs } from './team-inputs';
import { DatabaseRef, databaseInputs } from './database-inputs';
import { requestInputs } from './requests-inputs';

export * from './routes';

// Each schema below is built by a function, called at the operation's first use (see `operations`).
const Empty = () => z.object({});
const Name = () => z.string().trim().min(1).max(200);
const Force = () => z.object({ force: Flag().optional() });
const ChannelRef = () => z.object({ id: z.string().regex(/^ch_[A-Za-z0-9_-]{10,40}$/, 'channel ids look like ch_…') });

/**
 * The input schema of every operation, as a function that builds it: validated at the daemon's
 * edge and by the Electron relay. An operation's schema is built at its first use, so a daemon
 * holds the schemas of what it has served, not all of them.
 */
const inputs = {
  status: Empty,
  shutdown: Empty,
  listProjects: Empty,
  createProject: () => z.object({ slug: Slug(), name: Name() }),
  deleteProject: () => ProjectRef().merge(Force()),
  listEnvironments: () => ProjectRef(),
  createEnvironment: () => ProjectRef().extend({ slug: Slug(), name: Name() }),
  deleteEnvironment: () => EnvironmentRef().merge(Force()),
  getLeasePolicy: () => EnvironmentRef(),
  setLeasePolicy: () =>
    EnvironmentRef()
      .extend({
        ttlSeconds: Seconds(),
        warnBeforeSeconds: Seconds(),
        /** Break-glass (issue 17): off unless set. */
        breakGlassSeconds: Seconds().optional(),
      })
      .superRefine((p, ctx) => {
        if (p.warnBeforeSeconds >= p.ttlSeconds) {
          ctx.addIssue({
            code: 'custom',
            message: `warn-before (${formatDuration(p.warnBeforeSeconds)}) must be shorter than the ttl (${formatDuration(p.ttlSeconds)})`,
          });
        }
      }),
  clearLeasePolicy: () => EnvironmentRef(),
  listSecrets: () => EnvironmentRef().extend({ reveal: Flag().optional() }),
  getSecret: () => EnvironmentRef().extend({ key: SecretKey() }),
  setSecret: () => EnvironmentRef().extend({ key: SecretKey(), value: SecretValue() }),
  deleteSecret: () => EnvironmentRef().extend({ key: SecretKey() }),
  importSecrets: () =>
    EnvironmentRef().extend({
      dotenv: z.string().max(1_000_000, 'a .env text is limited to 1 MB'),
      dryRun: Flag().optional(),
      /** Import the valid lines and list the rest as skipped, instead of refusing the whole text. */
      skipInvalid: Flag().optional(),
    }),
  listLeases: () =>
    z.object({
      project: Slug().optional(),
      environment: Slug().optional(),
      status: LeaseStatusSchema().optional(),
      all: Flag().optional(),
      limit: z.coerce.number().int().min(1).max(10_000).optional(),
      cursor: z.coerce.number().int().min(0).optional(),
    }),
  issueLease: () =>
    EnvironmentRef()
      .extend({
        scope: z.array(ScopeEntry()).max(200),
        ttlSeconds: Seconds().optional(),
        reason: Reason(),
        /** `DB:ROLE`: a login role of its own for this lease, under the key `<DB>_URL`. */
        db: DatabaseRef().optional(),
      })
      .superRefine((a, ctx) => {
        if (a.scope.length === 0 && a.db === undefined)
          ctx.addIssue({ code: 'custom', path: ['scope'], message: 'name at least one key or glob (or --db DB:ROLE)' });
      }),
  getLease: () => LeaseRef(),
  renewLease: () => LeaseRef().extend({ ttlSeconds: Seconds().optional() }),
  revokeLease: () =>
    LeaseRef().extend({
      reason: z.string().trim().max(1000).optional(),
      /** Give up dropping the lease's database login role (audited). */
      force: Flag().optional(),
    }),
  expireAll: () =>
    EnvironmentRef().extend({
      reason: z.string().trim().max(1000).optional(),
      /** Also rotate every secret linked to a database (`bella secrets rotate`). */
      rotate: Flag().optional(),
    }),
  listAudit: () =>
    z.object({
      project: Slug().optional(),
      environment: Slug().optional(),
      since: z.string().datetime({ offset: true, message: 'since must be an ISO 8601 time' }).optional(),
      until: z.string().datetime({ offset: true, message: 'until must be an ISO 8601 time' }).optional(),
      event: AuditEventSchema().optional(),
      outcome: OutcomeSchema().optional(),
      lease: LeaseRef().shape.id.optional(),
      /** `owner`, a person's name (any of her devices), `token`, `daemon`, `ci:NAME`. */
      actor: z.string().trim().min(1).max(200).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
      before: z.coerce.number().int().min(1).optional(),
    }),
  verifyAudit: Empty,
  getNotificationSettings: Empty,
  setNotificationSettings: () =>
    z.object({
      desktop: Flag(),
      project: Slug().optional(),
      environment: Slug().optional(),
    }),
  testNotification: Empty,
  getListener: Empty,
  enableListener: () =>
    z.object({
      address: z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'give the address as HOST:PORT, e.g. 0.0.0.0:7443')
        .refine((a) => Number(a.slice(a.lastIndexOf(':') + 1)) <= 65535, 'ports go up to 65535')
        .optional(),
      names: z.array(z.string().trim().min(1).max(253)).max(32).optional(),
      allow: z.array(z.string().trim().min(1).max(64)).max(64).optional(),
      publicUrl: z.string().trim().min(1).max(2048).optional(),
      certPem: z
        .string()
        .max(64 * 1024)
        .optional(),
      keyPem: z
        .string()
        .max(64 * 1024)
        .optional(),
    }),
  disableListener: Empty,
  rotateListenerCertificate: Empty,
  listChannels: Empty,
  addChannel: () =>
    z.object({
      kind: z.enum(CHANNEL_KINDS),
      url: z.string().min(1).max(2048),
      name: z.string().trim().min(1).max(200).optional(),
      project: Slug().optional(),
      environment: Slug().optional(),
      events: z.array(z.enum(CHANNEL_EVENTS)).min(1).max(CHANNEL_EVENTS.length).optional(),
      secret: z.string().max(200).optional(),
      allowPrivate: Flag().optional(),
      insecureHttp: Flag().optional(),
      anyHost: Flag().optional(),
    }),
  removeChannel: ChannelRef,
  testChannel: ChannelRef,
  rotateChannelSecret: ChannelRef,
  enableChannel: ChannelRef,
  disableChannel: ChannelRef,
  listDeliveries: () =>
    z.object({
      channel: ChannelRef().shape.id.optional(),
      failed: Flag().optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
  retryDelivery: () => z.object({ id: z.string().regex(/^msg_[A-Za-z0-9_-]{10,40}$/, 'delivery ids look like msg_…') }),
  lookupToken: Empty,
  revokeToken: () => z.object({ reason: z.string().trim().max(1000).optional() }),
  readSecrets: () =>
    z.object({
      keys: z
        .string()
        .optional()
        .transform((s) =>
          s
            ? s
                .split(',')
                .map((k) => k.trim())
                .filter(Boolean)
            : undefined,
        )
        .pipe(z.array(SecretKey()).optional()),
    }),
  ...ciInputs,
  ...historyInputs,
  ...teamInputs,
  ...databaseInputs,
  ...requestInputs,
} satisfies Record<OperationName, () => z.ZodType>;

/** Each operation's input schema's type. */
type Inputs = { [K in OperationName]: ReturnType<(typeof inputs)[K]> };
/** One operation: its route plus its input schema. */
export type OperationSpec<K extends OperationName> = (typeof routes)[K] & { readonly input: Inputs[K] };
/** The operations table's type. */
export type Operations = { [K in OperationName]: OperationSpec<K> };

/**
 * Every operation of the bella API, once. The daemon routes and validates from this table, the
 * client and the Electron relay call through it, the renderer is typed by it. `input` is built at
 * its first read and kept.
 */
export const operations = Object.fromEntries(
  (Object.keys(routes) as OperationName[]).map((name) => {
    let input: z.ZodType | undefined;
    const spec = { ...routes[name] };
    Object.defineProperty(spec, 'input', { enumerable: true, get: () => (input ??= inputs[name]()) });
    return [name, spec];
  }),
) as Operations;

/** What a caller passes to an operation. */
export type OperationInput<K extends OperationName> = z.input<Inputs[K]>;
/** What the daemon's handler receives after validation. */
export type OperationArgs<K extends OperationName> = z.output<Inputs[K]>;
