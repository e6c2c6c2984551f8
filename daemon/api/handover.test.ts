import { describe, expect, it } from 'vitest';
import { handoverLines } from './handover';
import type { IssuedLease } from './routes';
import type { Lease } from './types';

const lease = { id: 'abcdefghijklmnop', project: 'my-api', environment: 'production' } as Lease;

describe('handoverLines', () => {
  it('gives the lines a holder pastes while the listener serves, and nothing while it does not', () => {
    const issued: IssuedLease = {
      lease,
      token: 'bax-abcdefghijklmnop-secret',
      capped: null,
      server: 'https://host:7443',
      fingerprint: `sha256:${'a'.repeat(64)}`,
    };
    expect(handoverLines(issued)).toEqual([
      'export BELLA_SERVER=https://host:7443',
      `export BELLA_SERVER_FINGERPRINT=sha256:${'a'.repeat(64)}`,
      'export BELLA_TOKEN=bax-abcdefghijklmnop-secret',
      'bella run -p my-api -e production -- your-command',
    ]);
    expect(handoverLines({ ...issued, server: null, fingerprint: null })).toBeNull();
  });
});
