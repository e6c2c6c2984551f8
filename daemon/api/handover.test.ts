import { describe, expect, it } from 'vitest';
import { cliFileUrl, cliInstallLine, handoverLines, serverNote } from './handover';
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
      serverNote: null,
      pinnedPublicKey: 'sha256//Zm9vYmFyYmF6K3F1dXgvcXV1eD09PT09PT09PT09PT0=',
    };
    expect(handoverLines(issued)).toEqual([
      "curl -fsS --pinnedpubkey 'sha256//Zm9vYmFyYmF6K3F1dXgvcXV1eD09PT09PT09PT09PT0=' -k -o bella.mjs https://host:7443/v1/cli/bella.mjs",
      'export BELLA_SERVER=https://host:7443',
      `export BELLA_SERVER_FINGERPRINT=sha256:${'a'.repeat(64)}`,
      'export BELLA_TOKEN=bax-abcdefghijklmnop-secret',
      'node bella.mjs run -p my-api -e production -- your-command',
    ]);
    expect(handoverLines({ ...issued, server: null, fingerprint: null, pinnedPublicKey: null })).toBeNull();
  });

  it('fetches the CLI file from the listener with its pinned key', () => {
    expect(cliFileUrl('https://10.0.0.2:7443/')).toBe('https://10.0.0.2:7443/v1/cli/bella.mjs');
    expect(cliInstallLine('https://[fd00::2]:7443', 'sha256//AAAA')).toBe(
      "curl -fsS -g --pinnedpubkey 'sha256//AAAA' -k -o bella.mjs https://[fd00::2]:7443/v1/cli/bella.mjs",
    );
  });

  it('says which address the daemon chose, what else there is, and how to name another', () => {
    expect(serverNote('https://192.0.2.2:7443', ['10.1.2.3', 'fd00::2'], true)).toBe(
      "BELLA_SERVER is https://192.0.2.2:7443, this machine's first routable address (it also has 10.1.2.3, fd00::2); for a DNS name or a port forward: `bella listener enable --public-url URL`",
    );
    expect(serverNote('https://vm:7443', [], false)).toMatch(/^this machine has no routable address/);
  });
});
