import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BellaError, operations } from '../api';
import { createDesktopNotifier } from '../notify';
import { Store, type State } from '../store';
import { EventBus } from './events';
import { createServices } from './index';
import { findScopedEnvironment } from './lookup';
import { bellaErrorOf } from '../../test/helpers/channels';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('names that exist on Object.prototype', () => {
  it('are ordinary slugs and keys, never built-ins', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-lookup-'));
    dirs.push(home);
    const store = await Store.open(home);
    const services = createServices(
      { store, events: new EventBus(), log: () => undefined },
      createDesktopNotifier({ log: () => undefined, env: { PATH: '' } }),
      { retentionMs: 1, backupsKept: 1 },
    );
    const missing = (p: Promise<unknown> | (() => unknown)) =>
      (typeof p === 'function' ? Promise.resolve().then(p) : p).catch((e: unknown) => (e as BellaError).code);
    expect(await missing(() => services.projects.listEnvironments({ project: 'constructor' }))).toBe('not_found');
    await services.projects.createProject({ slug: 'constructor', name: 'Odd name' });
    await services.projects.createEnvironment({ project: 'constructor', slug: 'tostring', name: 'x' });
    const ref = { project: 'constructor', environment: 'tostring' };
    expect(await missing(services.secrets.get({ ...ref, key: 'constructor' }))).toBe('not_found');
    await services.secrets.set({ ...ref, key: 'constructor', value: 'v' });
    expect((await services.secrets.get({ ...ref, key: 'constructor' })).secret.value).toBe('v');
    expect(operations.setSecret.input.safeParse({ ...ref, key: '__proto__', value: 'x' }).success).toBe(false);
    services.lifecycle.stop();
    await store.close();
  });
});

// Only what findScopedEnvironment reads: a project with one environment and its secrets by key.
function stateWith(keys: string[]): State {
  const secrets = Object.fromEntries(keys.map((k) => [k, { value: 'sealed' }]));
  return { projects: { app: { slug: 'app', environments: { dev: { slug: 'dev', secrets } } } } } as unknown as State;
}

describe('findScopedEnvironment: every scope entry must match a key', () => {
  const state = stateWith(['DB_URL', 'DB_USER', 'API_KEY']);

  it('accepts keys named in full and globs that match', () => {
    const env = findScopedEnvironment(state, 'app', 'dev', ['API_KEY', 'DB_*', 'API_KEY']);
    expect(Object.keys(env.secrets)).toEqual(['DB_URL', 'DB_USER', 'API_KEY']);
    expect(findScopedEnvironment(state, 'app', 'dev', [])).toBe(env);
  });

  it('names every entry that matches nothing, in scope order, with the keys sorted', () => {
    const err = bellaErrorOf(() => findScopedEnvironment(state, 'app', 'dev', ['NOPE', 'API_KEY', 'X_*', 'DB_*']));
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toBe('scope NOPE, X_* matches no key in app/dev; its keys: API_KEY, DB_URL, DB_USER');
  });

  it('counts only the environment’s own keys (never an inherited name)', () => {
    const err = bellaErrorOf(() =>
      findScopedEnvironment(state, 'app', 'dev', ['constructor', 'toString', '__proto__']),
    );
    expect(err.message).toContain('scope constructor, toString, __proto__ matches no key');
  });

  it('says so when the environment has no keys yet', () => {
    const err = bellaErrorOf(() => findScopedEnvironment(stateWith([]), 'app', 'dev', ['API_KEY']));
    expect(err.message).toBe('app/dev has no secrets yet: add the keys the lease should read first');
  });
});
