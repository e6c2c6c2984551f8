import { describe, expect, it } from 'vitest';
import type { DaemonStatus, StorageStatus } from '../../api/routes';
import { describeStatus } from './daemon';

const NOW = Date.parse('2026-12-03T10:00:00Z');

function status(storage: StorageStatus): DaemonStatus {
  return {
    version: '1.2.3',
    pid: 4242,
    startedAt: '2026-12-03T09:00:00Z',
    dataDir: '/home/ann/.bella/data',
    socket: '/run/user/1000/bella.sock',
    counts: { projects: 1, environments: 2, secrets: 3, activeLeases: 4 },
    notifications: { available: true, problem: null },
    problems: [],
    storage,
  };
}

/** The `storage` and `role` lines of `bella daemon status`. */
function storageLines(storage: StorageStatus): string[] {
  return describeStatus(status(storage), NOW)
    .split('\n')
    .filter((line) => /^(storage|role) /.test(line));
}

const shared = { kind: 'postgres', server: 'db.lan:5432/bella' } as const;

describe('bella daemon status: where the state is kept', () => {
  it('says files in the data dir on one line, after the data dir', () => {
    const text = describeStatus(status({ kind: 'files' }), NOW);
    expect(text.split('\n').slice(2, 4)).toEqual([
      'data dir       /home/ann/.bella/data',
      'storage        files in /home/ann/.bella/data',
    ]);
    expect(text).not.toMatch(/^role /m);
  });

  it('names the PostgreSQL server and this node as active with its epoch and URL', () => {
    const active = { node: 'a', url: 'https://a.lan:7443', epoch: 7, since: '2026-12-03T09:58:00Z' };
    expect(storageLines({ ...shared, role: 'active', node: 'a', url: 'https://a.lan:7443', epoch: 7, active })).toEqual(
      ['storage        PostgreSQL db.lan:5432/bella', 'role           active (epoch 7) as node a, https://a.lan:7443'],
    );
    expect(
      storageLines({ ...shared, role: 'active', node: 'a', url: null, epoch: 7, active: { ...active, url: null } }),
    ).toEqual(['storage        PostgreSQL db.lan:5432/bella', 'role           active (epoch 7) as node a']);
  });

  it('names the active node, its URL, since when and its epoch on a standby', () => {
    const active = { node: 'a', url: 'https://a.lan:7443', epoch: 7, since: '2026-12-03T09:58:00Z' };
    expect(
      storageLines({ ...shared, role: 'standby', node: 'b', url: 'https://b.lan:7443', epoch: null, active }),
    ).toEqual([
      'storage        PostgreSQL db.lan:5432/bella',
      'role           standby (node b); active: node a at https://a.lan:7443 since 2026-12-03T09:58:00Z (2m ago), epoch 7',
    ]);
  });

  it('says so on a standby when no node is active', () => {
    expect(storageLines({ ...shared, role: 'standby', node: 'b', url: null, epoch: null, active: null })).toEqual([
      'storage        PostgreSQL db.lan:5432/bella',
      'role           standby (node b); no node is active now (holders get 503 and retry)',
    ]);
  });
});
