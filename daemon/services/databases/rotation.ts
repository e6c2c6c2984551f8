import { randomBytes } from 'node:crypto';
import { acting } from '../team/caller';
import { BellaError, type OperationArgs, type OperationOutput, type RotatedSecret } from '../../api';
import { own, type State } from '../../store';
import { findEnvironment } from '../lookup';
import { replaceValue } from '../secret-versions';
import type { SecretsService } from '../secrets';
import type { Actor, ServiceContext } from '../service-context';
import { findDatabase, type DatabasesService } from './databases';
import { pgError } from '../../store/postgres/pg';
import type { PostgresAdmin } from './postgres';

// Real rotation (issue 19, item 5): a new random password on an existing Postgres login user,
// and its connection URL stored in a secret, in one step. Durable order (roll forward): the new
// value is committed first, marked pending (the old one stays in the history); then ALTER ROLE;
// then the mark is cleared. A crash between leaves a pending value whose password the database
// may not know yet: at start bella sets that same password again (ALTER ROLE is idempotent), so
// the value bella holds always ends up the one that works, and the old password is never the
// only copy of anything (it is the previous version until then).

/** What one rotation is about to do, checked before anything is written. */
interface Plan extends RotatedSecret {
  project: string;
  environment: string;
  url: string;
}

/** Rotations of database-linked secrets: `bella secrets rotate`, `expire-all --rotate`, the retry at start. */
export class Rotations {
  /** Keys (`p/e/k`) with a rotation under way: a second one waits its turn by being refused. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly databases: DatabasesService,
    private readonly pg: PostgresAdmin,
  ) {}

  /** `bella secrets rotate KEY --db DB --user USER`. */
  async rotate(args: OperationArgs<'rotateSecret'>): Promise<OperationOutput<'rotateSecret'>> {
    const plan = await this.check(args);
    return this.run(plan);
  }

  /** `expire-all --rotate`: every secret of the environment linked to a database; a failure does not stop the others. */
  async rotateEnvironment(
    project: string,
    environment: string,
  ): Promise<{ rotated: RotatedSecret[]; rotationFailed: Array<RotatedSecret & { error: string }> }> {
    const env = findEnvironment(this.ctx.store.state, project, environment);
    const linked = Object.entries(env.secrets)
      .filter(([, s]) => s.rotatedByDatabase !== undefined && s.rotatedUser !== undefined)
      .map(([key, s]) => ({ key, database: s.rotatedByDatabase!, user: s.rotatedUser! }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const rotated: RotatedSecret[] = [];
    const rotationFailed: Array<RotatedSecret & { error: string }> = [];
    for (const link of linked) {
      try {
        const out = await this.rotate({ project, environment, ...link });
        rotated.push({ key: out.key, database: out.database, user: out.user });
      } catch (err) {
        rotationFailed.push({ ...link, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return { rotated, rotationFailed };
  }

  /** At start: a rotation committed but not confirmed sets the password bella holds (again). */
  async resume(): Promise<void> {
    for (const project of Object.values(this.ctx.store.state.projects))
      for (const env of Object.values(project.environments))
        for (const [key, s] of Object.entries(env.secrets)) {
          if (!s.rotationPending || s.rotatedByDatabase === undefined || s.rotatedUser === undefined) continue;
          const ref = { project: project.slug, environment: env.slug, key };
          try {
            const db = findDatabase(this.ctx.store.state, s.rotatedByDatabase);
            const url = new URL(this.secrets.reveal(ref.project, ref.environment, env, [key])[key]!);
            const version = s.version ?? 1;
            await this.pg.setPassword(
              this.databases.adminUrl(this.ctx.store.state, db),
              s.rotatedUser,
              decodeURIComponent(url.password),
            );
            await this.confirm(
              ref,
              version,
              { key, database: db.id, user: s.rotatedUser },
              'finished at start (bella stopped mid-way)',
              'daemon',
            );
          } catch (err) {
            this.ctx.log(`rotation of ${ref.project}/${ref.environment}/${key} still pending: ${pgError(err)}`);
          }
        }
  }

  /** Refuses what cannot be rotated, before anything is written. */
  private async check(args: OperationArgs<'rotateSecret'>): Promise<Plan> {
    const state = this.ctx.store.state;
    findEnvironment(state, args.project, args.environment);
    const db = findDatabase(state, args.database);
    if (db.project !== args.project || db.environment !== args.environment)
      throw new BellaError(
        'invalid_argument',
        `database ${db.id} belongs to ${db.project}/${db.environment}: rotate a secret of that environment`,
      );
    if (args.user === db.adminUser)
      throw new BellaError(
        'invalid_argument',
        `${args.user} is the admin bella connects to ${db.id} as: rotating it would lock bella out (name the application's own login user)`,
      );
    if (args.user.startsWith('bella_') || refersToLease(state, args.user))
      throw new BellaError(
        'invalid_argument',
        `${args.user} is a login role bella made for a lease: it ends with its lease, it is not rotated (name the application's own login user)`,
      );
    const url = this.databases.adminUrl(state, db);
    let found;
    try {
      found = await this.pg.groups(url, [args.user]);
    } catch (err) {
      throw new BellaError('unavailable', `cannot reach ${db.id} (${db.target}) to rotate: ${pgError(err)}`);
    }
    const role = found.get(args.user);
    if (!role)
      throw new BellaError(
        'not_found',
        `no role ${args.user} in ${db.target}: name an existing login user (CREATE ROLE ${args.user} LOGIN PASSWORD …)`,
      );
    if (!role.canLogin)
      throw new BellaError(
        'invalid_argument',
        `${args.user} cannot log in (NOLOGIN) in ${db.target}: rotation is for a login user's password`,
      );
    return {
      project: args.project,
      environment: args.environment,
      key: args.key,
      database: db.id,
      user: args.user,
      url,
    };
  }

  private async run(plan: Plan): Promise<OperationOutput<'rotateSecret'>> {
    const id = `${plan.project}/${plan.environment}/${plan.key}`;
    if (this.busy.has(id))
      throw new BellaError('conflict', `a rotation of ${plan.key} is under way: try again in a moment`);
    this.busy.add(id);
    try {
      const password = randomBytes(24).toString('base64url');
      const target = new URL(plan.url);
      target.username = plan.user;
      target.password = password;
      const ref = { project: plan.project, environment: plan.environment, key: plan.key };
      const link: RotatedSecret = { key: plan.key, database: plan.database, user: plan.user };
      // 1. Commit first: the new value, pending; the old one becomes the previous version.
      const version = await this.ctx.store.transact((state, touched) => {
        const env = findEnvironment(state, plan.project, plan.environment);
        const sealed = this.secrets.sealValue(plan.project, plan.environment, env, plan.key, target.toString());
        const next = { sealed, change: 'rotate' as const, rotatedByDatabase: plan.database, rotatedUser: plan.user };
        const out = replaceValue(state, touched, env, ref, { ...next, rotationPending: true }, this.ctx.clock());
        return { result: out.version, audit: [] };
      });
      this.secrets.changed(plan.project, plan.environment);
      // 2. Then the database: from here on the new password is the one that works.
      try {
        await this.pg.setPassword(plan.url, plan.user, password);
      } catch (err) {
        throw new BellaError(
          'unavailable',
          `${plan.database} did not take the new password of ${plan.user}: ${pgError(err)}. ${plan.key} holds it as version ${version}, pending: bella sets it again at its next start, or run this again; until then the old password (version ${version - 1}, bella secrets history ${plan.key}) still works`,
        );
      }
      // 3. Done: the mark is cleared and the rotation audited.
      await this.confirm(ref, version, link, `password of ${plan.user} replaced in ${plan.database}`);
      return { ...link, version };
    } finally {
      this.busy.delete(id);
    }
  }

  /** Clears the pending mark of `version` (if it is still the live value) and audits the rotation. */
  private async confirm(
    ref: { project: string; environment: string; key: string },
    version: number,
    link: RotatedSecret,
    message: string,
    actor: Actor = acting(),
  ): Promise<void> {
    await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, ref.project, ref.environment);
      const live = own(env.secrets, ref.key);
      if (live && (live.version ?? 1) === version && live.rotationPending) {
        delete live.rotationPending;
        touched.secret(ref.project, ref.environment, ref.key);
      }
      return {
        result: null,
        audit: [
          {
            event: 'SecretRotated',
            outcome: 'Success',
            actor,
            project: ref.project,
            environment: ref.environment,
            keys: [ref.key],
            message: `version ${version}: ${message}`,
          },
        ],
      };
    });
  }
}

/** Whether `user` is the login role of a lease (whatever its name). */
function refersToLease(state: State, user: string): boolean {
  return state.dbLogins.has(user);
}
