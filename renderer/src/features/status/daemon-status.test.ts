import { describe, expect, it } from 'vitest';
import { describeStorage } from './daemon-status';

const shared = { kind: 'postgres', server: 'db.lan:5432/bella', url: 'https://a.lan:7443' } as const;
const nodeA = { node: 'a', url: 'https://a.lan:7443', epoch: 7, since: '2026-12-03T09:58:00Z' };

describe('where the daemon keeps its state, in the sidebar', () => {
  it('says nothing for the files of this machine', () => {
    expect(describeStorage({ kind: 'files' })).toBeNull();
  });

  it('names the PostgreSQL server, this node and its role', () => {
    expect(describeStorage({ ...shared, role: 'active', node: 'a', epoch: 7, active: nodeA })).toBe(
      'Shared on PostgreSQL db.lan:5432/bella — this node (a) is active, epoch 7',
    );
    expect(describeStorage({ ...shared, role: 'standby', node: 'b', epoch: null, active: nodeA })).toBe(
      'Shared on PostgreSQL db.lan:5432/bella — this node (b) is a standby: node a is active',
    );
    expect(describeStorage({ ...shared, role: 'standby', node: 'b', epoch: null, active: null })).toBe(
      'Shared on PostgreSQL db.lan:5432/bella — this node (b) is a standby: no node is active',
    );
  });
});
