import { acting } from './team/caller';
import {
  BellaError,
  TRASH_KEEP_MS,
  type OperationArgs,
  type OperationOutput,
  type SecretVersion,
  type TrashedSecret,
} from '../api';
import { iso } from '../base/common/time';
import { own, secretId, type State, type StoredEnvironment } from '../store';
import { findEnvironment } from './lookup';
import { missingKey, type SecretsService } from './secrets';
import { purgeKey, replaceValue, versionsOf, type SecretRef } from './secret-versions';
import type { ServiceContext } from './service-context';

/**
 * A secret's history (earlier versions, rollback) and an environment's trash (restore, purge).
 * Reading values of earlier versions, a rollback, a restore and a purge are each audited.
 */
export class SecretHistoryService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
  ) {}

  /** The versions of a key, newest first; values only with reveal (the read is audited first). */
  async history(args: OperationArgs<'secretHistory'>): Promise<OperationOutput<'secretHistory'>> {
    const env = findEnvironment(this.ctx.store.state, args.project, args.environment);
    const state = this.ctx.store.state;
    const live = own(env.secrets, args.key);
    const trashed = state.trash.get(secretId(args.project, args.environment, args.key));
    if (!live && !trashed) throw notKept(args, env);
    const versions: Array<SecretVersion & { sealed: string }> = versionsOf(state, env, args).map((v) => ({
      version: v.version,
      at: iso(v.at),
      change: v.change,
      ...(v.from !== undefined ? { from: v.from } : {}),
      current: false,
      endedAt: iso(v.endedAt),
      endedBy: v.endedBy,
      ...(v.rotatedByDatabase !== undefined ? { rotatedByDatabase: v.rotatedByDatabase } : {}),
      sealed: v.sealed,
    }));
    if (live) {
      versions.unshift({
        version: live.version ?? 1,
        at: iso(live.updatedAt),
        change: live.change ?? 'set',
        ...(live.from !== undefined ? { from: live.from } : {}),
        current: true,
        endedAt: null,
        endedBy: null,
        ...(live.rotatedByDatabase !== undefined ? { rotatedByDatabase: live.rotatedByDatabase } : {}),
        ...(live.rotationPending ? { pending: true } : {}),
        sealed: live.sealed,
      });
    }
    // Opened before the audit write: an expire-all committed meanwhile re-seals them under a new key.
    const shown = versions.map(({ sealed, ...v }) =>
      args.reveal ? { ...v, value: this.secrets.openValue(args.project, args.environment, env, args.key, sealed) } : v,
    );
    if (args.reveal) {
      // Values of earlier versions are secrets like the live one: the read is logged before it is answered.
      await this.ctx.store.record([
        {
          event: 'SecretsRead',
          outcome: 'Success',
          actor: acting(),
          project: args.project,
          environment: args.environment,
          keys: [args.key],
          message: `history: versions ${versions.map((v) => v.version).join(', ')}`,
        },
      ]);
    }
    return { project: args.project, environment: args.environment, key: args.key, inTrash: !live, versions: shown };
  }

  /** Makes version `to` the live value again, as a new version; refused for a database-rotated secret. */
  async rollback(args: OperationArgs<'rollbackSecret'>): Promise<OperationOutput<'rollbackSecret'>> {
    const now = this.ctx.clock();
    const out = await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const live = own(env.secrets, args.key);
      if (!live) {
        if (state.trash.has(secretId(args.project, args.environment, args.key))) {
          throw new BellaError(
            'conflict',
            `${args.key} is in the trash of ${args.project}/${args.environment}: bring it back with bella secrets restore ${args.key}, then roll back`,
          );
        }
        throw missingKey(args.project, args.environment, args.key, env);
      }
      // Defends the database: an older value holds a password its rotation already replaced.
      if (live.rotatedByDatabase !== undefined) {
        throw new BellaError(
          'conflict',
          `${args.key} is rotated by database ${live.rotatedByDatabase}: its older values hold passwords the database no longer accepts, so rolling back is refused; rotate it again with bella secrets rotate ${args.key} --db ${live.rotatedByDatabase}${live.rotatedUser !== undefined ? ` --user ${live.rotatedUser}` : ''}`,
        );
      }
      const current = live.version ?? 1;
      if (args.to === current) {
        throw new BellaError('conflict', `${args.key} is at version ${current} already: nothing to roll back`);
      }
      const target = versionsOf(state, env, args).find((v) => v.version === args.to);
      if (!target) throw noVersion(state, env, args, args.to, current);
      const { version } = replaceValue(
        state,
        touched,
        env,
        args,
        { sealed: target.sealed, change: 'rollback', from: target.version },
        now,
      );
      return {
        result: { key: args.key, version, from: target.version },
        audit: [
          {
            event: 'SecretRolledBack',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: [args.key],
            message: `version ${version} holds the value of version ${target.version} (was version ${current})`,
          },
        ],
      };
    });
    this.secrets.changed(args.project, args.environment);
    return out;
  }

  /** The deleted secrets of an environment, newest first. */
  listTrash(args: OperationArgs<'listTrash'>): OperationOutput<'listTrash'> {
    findEnvironment(this.ctx.store.state, args.project, args.environment);
    const trash: TrashedSecret[] = [...this.ctx.store.state.trash.values()]
      .filter((t) => t.project === args.project && t.environment === args.environment)
      .sort((a, b) => b.deletedAt - a.deletedAt || a.key.localeCompare(b.key))
      .map((t) => ({
        key: t.key,
        version: t.version,
        deletedAt: iso(t.deletedAt),
        purgeAt: iso(t.deletedAt + TRASH_KEEP_MS),
      }));
    return { trash };
  }

  /** Brings a deleted secret back from the trash as a new version; refused while a live one of that name exists. */
  async restore(args: OperationArgs<'restoreSecret'>): Promise<OperationOutput<'restoreSecret'>> {
    const now = this.ctx.clock();
    const out = await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const live = own(env.secrets, args.key);
      const where = `${args.project}/${args.environment}`;
      if (live) {
        throw new BellaError(
          'conflict',
          `a live secret ${args.key} exists in ${where}: restoring would replace it; delete it first, or bring an earlier value back with bella secrets rollback ${args.key} --to N (see bella secrets history ${args.key})`,
        );
      }
      const entry = state.trash.get(secretId(args.project, args.environment, args.key));
      if (!entry) throw notInTrash(state, args, where);
      const deleted = state.versions.get(`${entry.id}@${entry.version}`);
      if (!deleted) throw new BellaError('internal', `the deleted value of ${args.key} is missing from ${where}`);
      const { version } = replaceValue(
        state,
        touched,
        env,
        args,
        {
          sealed: deleted.sealed,
          change: 'restore',
          from: deleted.version,
          ...(deleted.rotatedByDatabase !== undefined ? { rotatedByDatabase: deleted.rotatedByDatabase } : {}),
          ...(deleted.rotatedUser !== undefined ? { rotatedUser: deleted.rotatedUser } : {}),
        },
        now,
      );
      return {
        result: { key: args.key, version, from: deleted.version },
        audit: [
          {
            event: 'SecretRestored',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: [args.key],
            message: `restored from the trash as version ${version} (the value of version ${deleted.version})`,
          },
        ],
      };
    });
    this.secrets.changed(args.project, args.environment);
    return out;
  }

  /** Destroys a key for good: its live value, its trash entry and every earlier version. */
  async purge(args: OperationArgs<'purgeSecret'>): Promise<OperationOutput<'purgeSecret'>> {
    const out = await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const live = own(env.secrets, args.key);
      if (!live && !state.trash.has(secretId(args.project, args.environment, args.key))) throw notKept(args, env);
      const versions = purgeKey(state, touched, env, args) + (live ? 1 : 0);
      return {
        result: { purged: args.key, versions },
        audit: [
          {
            event: 'SecretPurged',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: [args.key],
            message: `${live ? 'live value, ' : 'from the trash, '}${versions} version${versions === 1 ? '' : 's'} destroyed`,
          },
        ],
      };
    }, 'release');
    this.secrets.changed(args.project, args.environment);
    return out;
  }
}

/** A key neither live nor in the trash. */
function notKept(ref: SecretRef, env: StoredEnvironment): BellaError {
  const err = missingKey(ref.project, ref.environment, ref.key, env);
  return new BellaError('not_found', `${err.message} (nor in its trash: see bella secrets trash)`);
}

function notInTrash(state: State, ref: SecretRef, where: string): BellaError {
  const keys = [...state.trash.values()]
    .filter((t) => t.project === ref.project && t.environment === ref.environment)
    .map((t) => t.key)
    .sort();
  return new BellaError(
    'not_found',
    keys.length
      ? `${ref.key} is not in the trash of ${where}; the trash holds: ${keys.join(', ')}`
      : `${ref.key} is not in the trash of ${where}; the trash is empty (deleted secrets stay 30 days)`,
  );
}

function noVersion(state: State, env: StoredEnvironment, ref: SecretRef, to: number, current: number): BellaError {
  const kept = versionsOf(state, env, ref).map((v) => v.version);
  const oldest = kept.at(-1) ?? current;
  return new BellaError(
    'not_found',
    to > current
      ? `${ref.key} has no version ${to}: its newest is version ${current} (see bella secrets history ${ref.key})`
      : `version ${to} of ${ref.key} is no longer kept: versions ${oldest}–${current} are (see bella secrets history ${ref.key})`,
  );
}
