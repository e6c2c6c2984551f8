import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seal } from './crypto';
import type { StoredAccessRequest } from './schema';
import { parseChange } from './record-validation';
import { Store } from './store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const request = (token: string | null): StoredAccessRequest => ({
  id: 'req_0123456789abcdef',
  memberId: 'mem_aaaaaaaaaaaaaaaa',
  requester: `alice (device sha256:${'a'.repeat(64)})`,
  project: 'my-api',
  environment: 'production',
  scope: ['DATABASE_URL', 'REDIS_*'],
  ttlSeconds: 3600,
  reason: 'INC-4521',
  createdAt: 1_000,
  windowEndsAt: 3_601_000,
  status: 'approved',
  decidedAt: 2_000,
  decidedBy: 'owner',
  decision: 'on call',
  leaseId: 'abcdefghij012345',
  sealedToken: token,
  breakGlass: false,
  reviewedAt: null,
  reviewedBy: null,
});

describe('access request records', () => {
  it('are stored as records of their own and read back validated; the sealed token survives a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-requests-'));
    dirs.push(dir);
    let store = await Store.open(dir);
    const sealed = seal(store.keys.wrapKey, 'bax-abcdefghij012345-secret', 'bella/request-token/req_0123456789abcdef');
    const record = request(sealed);
    await store.transact((state, touched) => {
      state.accessRequests.set(record.id, record);
      touched.record('accessRequest', record.id);
      return { result: null, audit: [] };
    });
    // Read back (and validated) after a close folded it into the snapshot, and once more.
    for (let i = 0; i < 2; i++) {
      await store.close();
      store = await Store.open(dir);
      expect(store.state.accessRequests.get(record.id)).toEqual(record);
    }
    await store.close();
  });

  it('refuses a record with an unknown status or a malformed id', () => {
    expect('change' in parseChange({ t: 'accessRequest', id: 'req_0123456789abcdef', v: request(null) })).toBe(true);
    const bad = { ...request(null), status: 'granted' };
    expect('error' in parseChange({ t: 'accessRequest', id: 'req_0123456789abcdef', v: bad })).toBe(true);
    const badId = { ...request(null), id: 'req_x' };
    expect('error' in parseChange({ t: 'accessRequest', id: 'req_x', v: badId })).toBe(true);
  });
});
