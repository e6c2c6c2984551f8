import { acting } from './team/caller';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { BellaError, type OperationArgs, type OperationOutput, type Secret } from '../api';
import { iso } from '../base/common/time';
import {
  dataKeyAad,
  newDataKey,
  open,
  own,
  seal,
  secretAad,
  type State,
  type StoredEnvironment,
  type Touched,
} from '../store';
import type { ServiceContext } from './service-context';
import { dotenvRefused, parseDotenv } from './dotenv';
import { findEnvironment } from './lookup';
import { keysWithHistory, replaceValue, trashValue, versionsOf } from './secret-versions';
import { SealedScopes } from './sealed-scopes';

/** The most secrets one import sets. */
const MAX_IMPORT = 5000;

/** Secrets of environments: values sealed with the environment's data key, every read audited. */
export class SecretsService {
  private readonly dataKeys = new Map<string, KeyObject>();
  private readonly scopes = new SealedScopes();

  constructor(private readonly ctx: ServiceContext) {
    ctx.store.onReload(() => {
      this.dataKeys.clear();
      this.scopes.clear();
    });
  }

  /** A sealed data key for a new environment (or a rotation). */
  newWrappedKey(project: string, environment: string, version: number): string {
    return seal(this.ctx.store.keys.wrapKey, newDataKey(), dataKeyAad(project, environment, version));
  }

  private dataKey(project: string, environment: string, env: StoredEnvironment): KeyObject {
    const id = `${project}/${environment}/${env.keyVersion}`;
    let key = this.dataKeys.get(id);
    if (!key) {
      key = createSecretKey(
        open(this.ctx.store.keys.wrapKey, env.dataKey, dataKeyAad(project, environment, env.keyVersion)),
      );
      this.dataKeys.set(id, key);
    }
    return key;
  }

  /** Decrypts the given keys of an environment. */
  reveal(project: string, environment: string, env: StoredEnvironment, keys: string[]): Record<string, string> {
    const dataKey = this.dataKey(project, environment, env);
    const out: Record<string, string> = {};
    for (const key of keys) {
      const stored = own(env.secrets, key);
      if (stored) out[key] = open(dataKey, stored.sealed, secretAad(project, environment, key)).toString('utf8');
    }
    return out;
  }

  /**
   * Decrypts the given keys of an environment for a token read: the same answer as {@link reveal},
   * through one sealed blob per scope (see {@link SealedScopes}) instead of one decipher per value.
   */
  revealScope(project: string, environment: string, env: StoredEnvironment, keys: string[]): Record<string, string> {
    return this.scopes.reveal(`${project}/${environment}`, env, keys, (key, sealed) =>
      this.openValue(project, environment, env, key, sealed),
    );
  }

  /** Opens a sealed value of `key` (live or earlier: both are sealed alike). */
  openValue(project: string, environment: string, env: StoredEnvironment, key: string, sealed: string): string {
    return open(this.dataKey(project, environment, env), sealed, secretAad(project, environment, key)).toString('utf8');
  }

  /** Seals a value other than a secret (a database URL) with the environment's data key. */
  sealOther(project: string, environment: string, env: StoredEnvironment, aad: string, value: string): string {
    return seal(this.dataKey(project, environment, env), value, aad);
  }

  /** Opens what {@link sealOther} sealed. */
  openOther(project: string, environment: string, env: StoredEnvironment, aad: string, sealed: string): string {
    return open(this.dataKey(project, environment, env), sealed, aad).toString('utf8');
  }

  /** Seals a secret's value of `key` with the environment's data key. */
  sealValue(project: string, environment: string, env: StoredEnvironment, key: string, value: string): string {
    return seal(this.dataKey(project, environment, env), value, secretAad(project, environment, key));
  }

  /**
   * Replaces an environment's data key and re-seals every secret with it (inside a transaction),
   * the earlier versions of its secrets and its trash included: the old key is gone, the history
   * stays readable. Returns how many live secrets and earlier versions were re-sealed.
   */
  rotate(state: State, touched: Touched, project: string, environment: string): { secrets: number; versions: number } {
    const env = findEnvironment(state, project, environment);
    const values = this.reveal(project, environment, env, Object.keys(env.secrets));
    const earlier = keysWithHistory(state, env, project).flatMap((key) =>
      versionsOf(state, env, { project, environment, key }).map((v) => ({
        v,
        value: this.openValue(project, environment, env, key, v.sealed),
      })),
    );
    env.keyVersion += 1;
    env.dataKey = this.newWrappedKey(project, environment, env.keyVersion);
    touched.environment(project, environment);
    for (const [key, value] of Object.entries(values)) {
      env.secrets[key] = { ...env.secrets[key]!, sealed: this.sealValue(project, environment, env, key, value) };
      touched.secret(project, environment, key);
    }
    for (const { v, value } of earlier) {
      state.versions.set(v.id, { ...v, sealed: this.sealValue(project, environment, env, v.key, value) });
      touched.record('version', v.id);
    }
    return { secrets: Object.keys(values).length, versions: earlier.length };
  }

  async list(args: OperationArgs<'listSecrets'>): Promise<OperationOutput<'listSecrets'>> {
    const env = findEnvironment(this.ctx.store.state, args.project, args.environment);
    const keys = Object.keys(env.secrets).sort();
    const values = args.reveal ? this.reveal(args.project, args.environment, env, keys) : null;
    if (values) await this.auditRead(args.project, args.environment, keys);
    const secrets: Secret[] = keys.map((key) => ({
      key,
      updatedAt: iso(env.secrets[key]!.updatedAt),
      ...(values ? { value: values[key] } : {}),
    }));
    return { secrets };
  }

  async get(args: OperationArgs<'getSecret'>): Promise<OperationOutput<'getSecret'>> {
    const env = findEnvironment(this.ctx.store.state, args.project, args.environment);
    const stored = own(env.secrets, args.key);
    if (!stored) throw missingKey(args.project, args.environment, args.key, env);
    const value = this.reveal(args.project, args.environment, env, [args.key])[args.key]!;
    await this.auditRead(args.project, args.environment, [args.key]);
    return { secret: { key: args.key, value, updatedAt: iso(stored.updatedAt) } };
  }

  /** Writes the owner's SecretsRead entry; the read is refused if it cannot be written. */
  private auditRead(project: string, environment: string, keys: string[]): Promise<void> {
    return this.ctx.store.record([
      { event: 'SecretsRead', outcome: 'Success', actor: acting(), project, environment, keys },
    ]);
  }

  async set(args: OperationArgs<'setSecret'>): Promise<OperationOutput<'setSecret'>> {
    const now = this.ctx.clock();
    const out = await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const sealed = this.sealValue(args.project, args.environment, env, args.key, args.value);
      const ref = { project: args.project, environment: args.environment, key: args.key };
      const { created } = replaceValue(state, touched, env, ref, { sealed, change: 'set' }, now);
      return {
        result: { secret: { key: args.key, updatedAt: iso(now) }, created },
        audit: [
          {
            event: 'SecretSet',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: [args.key],
            message: created ? 'created' : 'replaced',
          },
        ],
      };
    });
    this.changed(args.project, args.environment);
    return out;
  }

  async delete(args: OperationArgs<'deleteSecret'>): Promise<OperationOutput<'deleteSecret'>> {
    const now = this.ctx.clock();
    await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      if (!own(env.secrets, args.key)) throw missingKey(args.project, args.environment, args.key, env);
      trashValue(state, touched, env, args, now);
      return {
        result: null,
        audit: [
          {
            event: 'SecretDeleted',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            keys: [args.key],
            message: 'moved to the trash (kept 30 days)',
          },
        ],
      };
    });
    this.changed(args.project, args.environment);
    return { deleted: args.key };
  }

  /** Imports a `.env` text, parsed here once for every client; a dry run reports what would change and every problem. */
  async import(args: OperationArgs<'importSecrets'>): Promise<OperationOutput<'importSecrets'>> {
    const now = this.ctx.clock();
    const { secrets, problems } = parseDotenv(args.dotenv);
    if (Object.keys(secrets).length > MAX_IMPORT) {
      throw new BellaError('invalid_argument', `at most ${MAX_IMPORT} secrets at once: split the file`);
    }
    const valid = Object.fromEntries(Object.entries(secrets).filter(([key]) => !problems.some((p) => p.key === key)));
    const plan = (env: StoredEnvironment) => {
      const existing = this.reveal(args.project, args.environment, env, Object.keys(valid));
      const added: string[] = [];
      const updated: string[] = [];
      const unchanged: string[] = [];
      for (const [key, value] of Object.entries(valid)) {
        if (!Object.hasOwn(existing, key)) added.push(key);
        else if (existing[key] !== value) updated.push(key);
        else unchanged.push(key);
      }
      return { added, updated, unchanged };
    };
    if (args.dryRun) {
      return { ...plan(findEnvironment(this.ctx.store.state, args.project, args.environment)), problems, dryRun: true };
    }
    // Skipping invalid lines is asked for; a text without a single KEY=value line is refused anyway.
    if (problems.length && (!args.skipInvalid || problems.some((p) => p.kind === 'empty'))) {
      throw dotenvRefused(problems);
    }
    const result = await this.ctx.store.transact((state, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const p = plan(env);
      for (const key of [...p.added, ...p.updated]) {
        const sealed = this.sealValue(args.project, args.environment, env, key, valid[key]!);
        replaceValue(
          state,
          touched,
          env,
          { project: args.project, environment: args.environment, key },
          { sealed, change: 'import' },
          now,
        );
      }
      const written = [...p.added, ...p.updated];
      return {
        result: p,
        audit: written.length
          ? [
              {
                event: 'SecretsImported' as const,
                outcome: 'Success' as const,
                actor: acting(),
                project: args.project,
                environment: args.environment,
                keys: written,
                message: `${p.added.length} added, ${p.updated.length} updated, ${p.unchanged.length} unchanged${problems.length ? `, ${problems.length} invalid lines skipped` : ''}`,
              },
            ]
          : [],
      };
    });
    if (result.added.length + result.updated.length) this.changed(args.project, args.environment);
    return { ...result, problems, dryRun: false };
  }

  /** Tells clients the secrets of an environment changed. */
  changed(project: string, environment: string): void {
    this.ctx.events.emit({ type: 'DataChanged', at: iso(this.ctx.clock()), resource: 'secrets', project, environment });
  }
}

/** The not_found error for a key an environment does not hold, listing the keys it does. */
export function missingKey(project: string, environment: string, key: string, env: StoredEnvironment): BellaError {
  const keys = Object.keys(env.secrets).sort();
  return new BellaError(
    'not_found',
    keys.length
      ? `no secret ${key} in ${project}/${environment}; its keys: ${keys.join(', ')}`
      : `no secret ${key} in ${project}/${environment}; it has no secrets yet`,
  );
}
