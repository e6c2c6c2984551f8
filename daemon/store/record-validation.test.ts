import * as real from 'zod';
import { describe, expect, it, vi } from 'vitest';

// Counts the strict object schemas built, to see when the store builds a record kind's schema.
const built = vi.hoisted(() => ({ objects: 0 }));
vi.mock('zod', async (importOriginal) => {
  const z = await importOriginal<typeof real>();
  return {
    ...z,
    strictObject: (...args: Parameters<typeof z.strictObject>) => {
      built.objects++;
      return z.strictObject(...args);
    },
  };
});

const { parseChange } = await import('./record-validation');
const atImport = built.objects;

const grants = [{ project: 'app', environment: 'prod', access: 'issue' }];
const leaseId = 'abcdefghij012345';
const memberId = 'mem_aaaaaaaaaaaaaaaa';

/** One valid record of each kind, and a field of its `v` set to a value each schema refuses. */
const records: Array<{ record: Record<string, unknown>; bad: [string, unknown] }> = [
  { record: { t: 'project', p: 'app', v: { slug: 'app', name: 'App', createdAt: 1 } }, bad: ['createdAt', -1] },
  {
    record: {
      t: 'env',
      p: 'app',
      e: 'prod',
      v: {
        slug: 'prod',
        name: 'Prod',
        createdAt: 1,
        policy: { ttlSeconds: 3600, warnBeforeSeconds: 60 },
        dataKey: 'sealed-key',
        keyVersion: 1,
        tokenEpoch: 1,
        rotatedAt: null,
      },
    },
    bad: ['policy', { ttlSeconds: 0, warnBeforeSeconds: 60 }],
  },
  {
    record: { t: 'secret', p: 'app', e: 'prod', k: 'API_KEY', v: { sealed: 's', updatedAt: 1, version: 2 } },
    bad: ['change', 'edit'],
  },
  {
    record: {
      t: 'lease',
      id: leaseId,
      v: {
        id: leaseId,
        project: 'app',
        environment: 'prod',
        scope: ['API_KEY'],
        reason: 'deploy',
        issuedAt: 1,
        expiresAt: 2,
        status: 'revoked',
        renewals: 0,
        renewedAt: null,
        lastUsedAt: null,
        endedAt: 2,
        endReason: 'revoked by owner',
        ttlSeconds: 3600,
        tokenHash: 'hash',
        epoch: 1,
        warnedFor: null,
        uses: 0,
      },
    },
    // An edited "revoked" must never read as anything else.
    bad: ['status', 'revokd'],
  },
  {
    record: {
      t: 'channel',
      id: 'ch_0123456789',
      v: {
        id: 'ch_0123456789',
        kind: 'webhook',
        name: 'ops',
        sealedUrl: 'sealed',
        events: ['LeaseIssued'],
        createdAt: 1,
        disabled: null,
      },
    },
    bad: ['events', ['LeaseStolen']],
  },
  {
    record: {
      t: 'outbox',
      id: 'msg_0123456789',
      v: {
        id: 'msg_0123456789',
        channelId: 'ch_0123456789',
        event: 'LeaseRevoked',
        timestamp: 1,
        data: { project: 'app', environment: 'prod', leaseIds: [leaseId] },
        attempts: 0,
        nextAttemptAt: 1,
        status: 'pending',
        lastError: null,
        lastStatus: null,
      },
    },
    bad: ['status', 'sent'],
  },
  {
    record: {
      t: 'delivery',
      id: 'att_0123456789',
      v: {
        id: 'att_0123456789',
        channelId: 'ch_0123456789',
        itemIds: ['msg_0123456789'],
        event: 'LeaseRevoked',
        attempt: 1,
        at: 1,
        durationMs: 3.5,
        outcome: 'delivered',
        status: 200,
        error: null,
        nextAttemptAt: null,
      },
    },
    bad: ['outcome', 'lost'],
  },
  { record: { t: 'ciReplay', id: 'jti', v: { id: 'a'.repeat(64), until: 5 } }, bad: ['id', 'A'.repeat(64)] },
  {
    record: {
      t: 'version',
      id: 'app/prod/API_KEY@1',
      v: {
        id: 'app/prod/API_KEY@1',
        project: 'app',
        environment: 'prod',
        key: 'API_KEY',
        version: 1,
        sealed: 's',
        at: 1,
        change: 'set',
        endedAt: 2,
        endedBy: 'delete',
      },
    },
    // The id must name the same secret and version as the fields.
    bad: ['version', 2],
  },
  {
    record: {
      t: 'trash',
      id: 'app/prod/API_KEY',
      v: { id: 'app/prod/API_KEY', project: 'app', environment: 'prod', key: 'API_KEY', version: 3, deletedAt: 4 },
    },
    bad: ['key', 'OTHER_KEY'],
  },
  {
    record: {
      t: 'member',
      id: memberId,
      v: { id: memberId, name: 'alice', role: 'member', grants, createdAt: 1, removedAt: null },
    },
    bad: ['role', 'owner'],
  },
  {
    record: {
      t: 'device',
      id: `sha256:${'a'.repeat(64)}`,
      v: { id: `sha256:${'a'.repeat(64)}`, memberId, enrolledAt: 1, lastSeenAt: null, removedAt: null },
    },
    bad: ['memberId', 'mem_short'],
  },
  {
    record: {
      t: 'invite',
      id: 'inv_0123456789abcdef',
      v: {
        id: 'inv_0123456789abcdef',
        name: 'bob',
        role: 'admin',
        grants,
        secretHash: 'b'.repeat(64),
        createdAt: 1,
        expiresAt: 2,
      },
    },
    bad: ['grants', [{ project: 'app', environment: 'prod', access: 'all' }]],
  },
  {
    record: {
      t: 'database',
      id: 'pg-prod',
      v: {
        id: 'pg-prod',
        project: 'app',
        environment: 'prod',
        sealedUrl: 'sealed',
        target: 'db.internal:5432/app',
        adminUser: 'bella_admin',
        roles: [{ name: 'readonly', memberOf: ['app_read'] }],
        createdAt: 1,
      },
    },
    bad: ['roles', [{ name: 'readonly', memberOf: [] }]],
  },
  {
    record: {
      t: 'dblogin',
      id: 'bella_abc',
      v: {
        id: 'bella_abc',
        database: 'pg-prod',
        role: 'readonly',
        leaseId,
        phase: 'live',
        attempts: 0,
        lastError: null,
        nextAttemptAt: null,
        createdAt: 1,
      },
    },
    bad: ['phase', 'dropped'],
  },
  {
    record: {
      t: 'accessRequest',
      id: 'req_0123456789abcdef',
      v: {
        id: 'req_0123456789abcdef',
        memberId,
        requester: 'alice',
        project: 'app',
        environment: 'prod',
        scope: ['API_KEY'],
        ttlSeconds: null,
        reason: 'INC-1',
        createdAt: 1,
        windowEndsAt: 2,
        status: 'pending',
        decidedAt: null,
        decidedBy: null,
        decision: null,
        leaseId: null,
        sealedToken: null,
        breakGlass: false,
        reviewedAt: null,
        reviewedBy: null,
      },
    },
    bad: ['status', 'granted'],
  },
  {
    record: { t: 'settings', v: { notifications: { desktop: true, environments: { 'app/prod': false } } } },
    bad: ['notifications', { desktop: 'yes', environments: {} }],
  },
];

describe('records read back from disk', () => {
  it('build no record schema until a record is read', () => {
    expect(atImport).toBe(0);
  });

  it('are checked at the first read of each kind as strictly as at later reads; a kind’s schema is built once', () => {
    expect(new Set(records.map((r) => r.record.t)).size).toBe(17);
    for (const { record, bad } of records) {
      const v = record.v as Record<string, unknown>;
      const edited = { ...record, v: { ...v, [bad[0]]: bad[1] } };
      const extra = { ...record, v: { ...v, unknown: 1 } };
      const before = built.objects;
      // The first record of this kind read is an edited one: refused, naming the field.
      const first = parseChange(edited);
      expect(first, String(record.t)).toEqual({ error: expect.stringMatching(/^v/) as unknown });
      expect(built.objects, String(record.t)).toBeGreaterThan(before);
      const once = built.objects;
      // Later reads: the same refusal, the valid record read as written, an unknown field refused.
      expect(parseChange(edited)).toEqual(first);
      expect(parseChange(record)).toEqual({ change: record });
      expect(parseChange(extra)).toEqual({ error: expect.stringMatching(/Unrecognized key: "unknown"/) as unknown });
      expect(parseChange({ ...record, extra: 1 })).toHaveProperty('error');
      expect(built.objects, String(record.t)).toBe(once);
    }
  });

  it('refuse what is not a record of a known kind', () => {
    for (const json of [null, 5, 'lease', [], {}, { t: 'lease2', id: 'x', v: null }, { t: 'toString' }, { t: 1 }]) {
      expect(parseChange(json), JSON.stringify(json)).toHaveProperty('error');
    }
    expect(parseChange({ t: '__proto__', v: null })).toEqual({ error: 't: not a kind of state record' });
    // A kind's tag must match its fields: a project record is not a secret record.
    const project = records[0]!.record;
    expect(parseChange({ ...project, t: 'secret' })).toHaveProperty('error');
    expect(parseChange({ t: 'lease', id: leaseId, v: null })).toEqual({ change: { t: 'lease', id: leaseId, v: null } });
  });
});
