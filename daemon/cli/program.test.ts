import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { BellaError } from '../api/errors';
import type { IssuedLease } from '../api/operations';
import type { ApiClient, CliEnvironment } from './context';
import { runCli } from './program';

const lease = {
  id: 'abcdefghij012345',
  project: 'my-api',
  environment: 'production',
  scope: ['DATABASE_URL', 'REDIS_URL'],
  reason: 'Contractor onboarding - Jane Doe',
  issuedAt: '2026-11-28T05:00:00.000Z',
  expiresAt: '2026-11-29T05:00:00.000Z',
  status: 'active' as const,
  renewals: 0,
  lastUsedAt: null,
  endedAt: null,
  endReason: null,
};

function harness(answer: (name: string, input: unknown) => unknown = () => ({})) {
  const out: string[] = [];
  const err: string[] = [];
  const call = vi.fn(async (name: string, input: unknown) => {
    const result = answer(name, input);
    if (result instanceof Error) throw result;
    return result;
  });
  const client = { call, ping: async () => true, close: () => {} } as unknown as ApiClient;
  const connect = vi.fn(async () => ({ client, started: false }));
  const io: CliEnvironment = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    stdin: new PassThrough(),
    env: {},
    cwd: '/',
    connect,
  };
  return {
    run: (...argv: string[]) => runCli(argv, io),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    call,
    connect,
  };
}

describe('usage errors', () => {
  it.each([
    [['projects', 'list', '--frobnicate']],
    [['projects', 'create', '--name', 'x']],
    [['nonsense']],
    [['issue', '--scope', 'a', '--ttl', 'abc']],
    [['issue', '--scope', 'a', '--ttl', '0']],
    [['issue', '--scope', 'a', '--ttl', '-5']],
    [['issue', '--scope', 'a', '--ttl', '481']],
    [['leases', 'issue', '-p', 'a', '-e', 'b', '--scope', 'K', '--ttl', 'soon', '--reason', 'r']],
    [['pull', '-o', 'xml']],
  ])('%j exits 2 with one line and never reaches the daemon', async (argv) => {
    const h = harness();
    expect(await h.run(...argv)).toBe(2);
    expect(h.stderr()).toMatch(/^error: .+\n$/);
    expect(h.stderr().trim().split('\n')).toHaveLength(1);
    expect(h.connect).not.toHaveBeenCalled();
  });

  it('explains how to name an environment when there is no .bella', async () => {
    const h = harness();
    expect(await h.run('issue', '--scope', 'stripe')).toBe(2);
    expect(h.stderr()).toBe('error: no project given: pass -p PROJECT -e ENVIRONMENT or run `bella context init`\n');
  });

  it('prints help and exits 0 for --help', async () => {
    const h = harness();
    expect(await h.run('leases', 'issue', '--help')).toBe(0);
    expect(h.stdout()).toContain('--reason <text>');
  });
});

describe('daemon errors', () => {
  it('prints an expected error as one line and exits 1', async () => {
    const h = harness(() => new BellaError('not_found', 'no project nope: see `bella projects list`'));
    expect(await h.run('environments', 'list', '--project', 'nope')).toBe(1);
    expect(h.stderr()).toBe('error: no project nope: see `bella projects list`\n');
  });

  it('keeps the stack of an unexpected error', async () => {
    const h = harness(() => new BellaError('internal', 'boom'));
    expect(await h.run('projects', 'list')).toBe(1);
    expect(h.stderr()).toMatch(/^error: boom\n.*BellaError/s);
  });
});

describe('issue', () => {
  const issued: IssuedLease = { lease, token: 'bax-abcdefghij012345-secret', capped: null, handover: null };

  it('puts only the token on stdout and the rest on stderr', async () => {
    const h = harness(() => ({ ...issued, capped: { requestedSeconds: 172800, policySeconds: 86400 } }));
    const code = await h.run(
      'leases',
      'issue',
      '--project',
      'my-api',
      '--environment',
      'production',
      '--scope',
      'DATABASE_URL,REDIS_URL',
      '--ttl',
      '48h',
      '--reason',
      'Contractor onboarding - Jane Doe',
    );
    expect(code).toBe(0);
    expect(h.stdout()).toBe('bax-abcdefghij012345-secret\n');
    expect(h.stderr()).toContain('abcdefghij012345');
    expect(h.stderr()).toContain('ttl 48h capped to 24h by the lease policy of my-api/production');
    expect(h.stderr()).toContain('shown once');
    expect(h.call.mock.calls[0]?.slice(0, 2)).toEqual([
      'issueLease',
      {
        project: 'my-api',
        environment: 'production',
        scope: ['DATABASE_URL', 'REDIS_URL'],
        ttlSeconds: 172800,
        reason: 'Contractor onboarding - Jane Doe',
      },
    ]);
  });

  it('bella issue defaults to 15 minutes and the cli-issued-token reason', async () => {
    const h = harness(() => issued);
    expect(await h.run('issue', '-p', 'my-api', '-e', 'production', '--scope', 'stripe,payment')).toBe(0);
    expect(h.call.mock.calls[0]?.slice(0, 2)).toEqual([
      'issueLease',
      {
        project: 'my-api',
        environment: 'production',
        scope: ['stripe', 'payment'],
        ttlSeconds: 900,
        reason: 'cli-issued-token',
      },
    ]);
  });

  it('--json prints the whole answer', async () => {
    const h = harness(() => issued);
    expect(await h.run('--json', 'issue', '-p', 'a', '-e', 'b', '--scope', 'K', '--ttl', '30')).toBe(0);
    expect(JSON.parse(h.stdout())).toEqual(issued);
  });
});

describe('output', () => {
  it('prints the API answer with --json anywhere on the line', async () => {
    const answer = { projects: [{ slug: 'my-api', name: 'My API', createdAt: lease.issuedAt, environments: [] }] };
    const h = harness(() => answer);
    expect(await h.run('projects', 'list', '--json')).toBe(0);
    expect(JSON.parse(h.stdout())).toEqual(answer);
  });

  it('masks secret values unless asked', async () => {
    const h = harness((_name, input) => ({
      secrets: [
        {
          key: 'STRIPE_KEY',
          updatedAt: lease.issuedAt,
          ...((input as { reveal?: boolean }).reveal ? { value: 'sk_live_x' } : {}),
        },
      ],
    }));
    await h.run('secrets', 'list', '-p', 'a', '-e', 'b');
    expect(h.stdout()).not.toContain('sk_live_x');
    await h.run('secrets', 'list', '-p', 'a', '-e', 'b', '--show-values');
    expect(h.stdout()).toContain('sk_live_x');
  });
});
