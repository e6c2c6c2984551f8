import { describe, expect, it } from 'vitest';
import { isBellaError } from '../../api';
import { emptyState, type State, type StoredLease, type StoredMember } from '../../store';
import { authorize } from './access';

function member(role: StoredMember['role']): StoredMember {
  return {
    id: 'mem_aaaaaaaaaaaaaaaa',
    name: 'alice',
    role,
    grants: [
      { project: 'my-api', environment: 'production', access: 'issue' },
      { project: 'my-api', environment: 'staging', access: 'request' },
    ],
    createdAt: 0,
    removedAt: null,
  };
}

function state(): State {
  const s = emptyState();
  s.leases.set('mine000000000000', { id: 'mine000000000000', by: 'mem_aaaaaaaaaaaaaaaa' } as StoredLease);
  s.leases.set('other00000000000', { id: 'other00000000000' } as StoredLease);
  return s;
}

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isBellaError(err) ? err.code : 'thrown';
  }
}

describe('what a teammate may do over the listener', () => {
  it('keeps the team, the listener settings and shutdown for the owner, even from admins', () => {
    for (const op of ['inviteTeamMember', 'removeTeamMember', 'enableListener', 'shutdown'] as const)
      expect([op, code(() => authorize(state(), member('admin'), op, {} as never))]).toEqual([op, 'permission_denied']);
    expect(code(() => authorize(state(), member('admin'), 'setSecret', {} as never))).toBeNull();
  });

  it('lets a member issue only where her grant is issue, and see only her own leases', () => {
    const m = member('member');
    const issue = (environment: string) =>
      code(() => authorize(state(), m, 'issueLease', { project: 'my-api', environment, scope: ['A'], reason: 'r' }));
    expect(issue('production')).toBeNull();
    expect(issue('staging')).toBe('permission_denied');
    expect(issue('dev')).toBe('permission_denied');
    expect(code(() => authorize(state(), m, 'revokeLease', { id: 'mine000000000000' }))).toBeNull();
    expect(code(() => authorize(state(), m, 'revokeLease', { id: 'other00000000000' }))).toBe('permission_denied');
    expect(code(() => authorize(state(), m, 'getSecret', {} as never))).toBe('permission_denied');
    expect(
      code(() => authorize(state(), m, 'listSecrets', { project: 'my-api', environment: 'production', reveal: true })),
    ).toBe('permission_denied');
  });

  it('filters projects and environments to her grants', () => {
    const m = member('member');
    const projects = authorize(state(), m, 'listProjects', {})!;
    const out = projects({
      projects: [{ slug: 'my-api' }, { slug: 'billing' }] as never,
    });
    expect(out.projects.map((p) => p.slug)).toEqual(['my-api']);
    const envs = authorize(state(), m, 'listEnvironments', { project: 'my-api' })!;
    expect(
      envs({ environments: [{ slug: 'production' }, { slug: 'dev' }, { slug: 'staging' }] as never }).environments.map(
        (e) => e.slug,
      ),
    ).toEqual(['production', 'staging']);
    expect(code(() => authorize(state(), m, 'listEnvironments', { project: 'billing' }))).toBe('permission_denied');
  });

  it('lets a member ask where she has either grant, fetch her own tokens, and never approve or review', () => {
    const m = member('member');
    const ask = (environment: string) =>
      code(() =>
        authorize(state(), m, 'createAccessRequest', { project: 'my-api', environment, scope: ['A'], reason: 'r' }),
      );
    expect(ask('staging')).toBeNull();
    expect(ask('production')).toBeNull();
    expect(ask('dev')).toBe('permission_denied');
    for (const op of ['listAccessRequests', 'getAccessRequest', 'fetchRequestToken'] as const)
      expect([op, code(() => authorize(state(), m, op, { id: 'req_aaaaaaaaaaaaaaaa' } as never))]).toEqual([op, null]);
    for (const op of ['approveAccessRequest', 'denyAccessRequest', 'reviewAccessRequest'] as const)
      expect([op, code(() => authorize(state(), m, op, {} as never))]).toEqual([op, 'permission_denied']);
    // Admins approve and deny; the review of a break-glass grant is the owner's.
    expect(code(() => authorize(state(), member('admin'), 'approveAccessRequest', {} as never))).toBeNull();
    expect(code(() => authorize(state(), member('admin'), 'reviewAccessRequest', {} as never))).toBe(
      'permission_denied',
    );
  });
});
