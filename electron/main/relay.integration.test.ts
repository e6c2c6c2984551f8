import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DaemonEvent, IssuedLease } from '../../daemon/api';
import { Connector } from '../../daemon/client';
import {
  daemonScript,
  ensureDaemonBuilt,
  shutdownAndWait,
  tempPlace,
  type DaemonPlace,
} from '../../test/helpers/daemon';
import { createDaemonConnection } from './daemon-connection';
import { Relay } from './relay';

let place: DaemonPlace;
let relay: Relay | undefined;

beforeAll(() => ensureDaemonBuilt());

afterEach(async () => {
  relay?.close();
  relay = undefined;
  await shutdownAndWait(place.socket, place.home);
  place.cleanup();
});

/** The main process's wiring: a connection that finds or starts the daemon, and the relay over it. */
function wire() {
  place = tempPlace('bella-relay');
  const connector = new Connector(
    { home: place.home, socket: place.socket },
    { daemonScript, execPath: process.execPath },
  );
  const connection = createDaemonConnection(() => connector.running());
  const connected = vi.fn();
  relay = new Relay(() => connection.getClient(), {
    onUnavailable: () => connection.markStale(),
    onConnectionChange: connected,
    backoff: { initialMs: 50, maxMs: 400 },
  });
  const events: DaemonEvent[] = [];
  relay.subscribe((e) => events.push(e));
  return { relay, events, connected };
}

async function ok<T>(r: Promise<import('../ipc/contract').RelayResult>): Promise<T> {
  const result = await r;
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

describe('relay against a real daemon', () => {
  it('starts the daemon, relays calls, returns errors as values, and streams events', async () => {
    const { relay, events, connected } = wire();
    await vi.waitFor(() => expect(connected).toHaveBeenCalledWith(true), { timeout: 15_000 });

    await ok(relay.invoke('createProject', { slug: 'acme', name: 'Acme' }));
    await ok(relay.invoke('createEnvironment', { project: 'acme', slug: 'prod', name: 'Production' }));
    await ok(relay.invoke('setSecret', { project: 'acme', environment: 'prod', key: 'DB_URL', value: 'postgres://x' }));
    const issued = await ok<IssuedLease>(
      relay.invoke('issueLease', {
        project: 'acme',
        environment: 'prod',
        scope: ['DB_URL'],
        ttlSeconds: 600,
        reason: 'deploy',
      }),
    );
    expect(issued.token).toMatch(/^bax-/);
    await vi.waitFor(() =>
      expect(events).toContainEqual(expect.objectContaining({ type: 'LeaseIssued', leaseIds: [issued.lease.id] })),
    );

    expect(await relay.invoke('createProject', { slug: 'acme', name: 'Again' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(await relay.invoke('getLease', { id: 'zzzzzzzzzzzzzzzz' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await relay.invoke('createProject', { slug: 'Not A Slug', name: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_argument', message: expect.stringContaining('slug:') },
    });
    expect(await relay.invoke('readSecrets', {})).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
  });

  it('when the daemon stops, finds (starts) it again, resynchronises, and keeps streaming', async () => {
    const { relay, events, connected } = wire();
    await vi.waitFor(() => expect(connected).toHaveBeenCalledWith(true), { timeout: 15_000 });
    const before = await ok<{ pid: number }>(relay.invoke('status', {}));
    await ok(relay.invoke('createProject', { slug: 'acme', name: 'Acme' }));
    await ok(relay.invoke('createEnvironment', { project: 'acme', slug: 'prod', name: 'Production' }));
    await ok(relay.invoke('setSecret', { project: 'acme', environment: 'prod', key: 'API_KEY', value: 'k' }));
    const issued = await ok<IssuedLease>(
      relay.invoke('issueLease', { project: 'acme', environment: 'prod', scope: ['*'], reason: 'restart test' }),
    );

    await ok(relay.invoke('shutdown', {}));
    await vi.waitFor(() => expect(connected).toHaveBeenCalledWith(false), { timeout: 15_000 });
    await vi.waitFor(() => expect(connected.mock.calls.filter(([c]) => c === true)).toHaveLength(2), {
      timeout: 20_000,
      interval: 100,
    });
    expect(events).toContainEqual(expect.objectContaining({ type: 'DataChanged', resource: 'projects' }));

    const after = await ok<{ pid: number }>(relay.invoke('status', {}));
    expect(after.pid).not.toBe(before.pid);
    const revoked = await ok<{ lease: { status: string } }>(relay.invoke('revokeLease', { id: issued.lease.id }));
    expect(revoked.lease.status).toBe('revoked');
    await vi.waitFor(() =>
      expect(events).toContainEqual(expect.objectContaining({ type: 'LeaseRevoked', leaseIds: [issued.lease.id] })),
    );
  });
});
