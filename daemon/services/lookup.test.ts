import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BellaError, operations } from '../api';
import { createDesktopNotifier } from '../notify';
import { Store } from '../store';
import { EventBus } from './events';
import { createServices } from './index';

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
