import { afterEach, describe, expect, it, vi } from 'vitest';
import { BellaError, type DaemonEvent } from '../../daemon/api';
import type { DaemonClient } from '../../daemon/client';
import { Relay, toRelayError } from './relay';

type Sub = { onEvent: (e: DaemonEvent) => void; onClose?: (err?: Error) => void; stopped: boolean };

/** A stand-in for DaemonClient: records calls, answers from `answer`, and hands out controllable streams. */
function fakeClient(answer: (op: string, input: unknown) => unknown = () => ({})) {
  const calls: Array<[string, unknown]> = [];
  const subs: Sub[] = [];
  let refuse = false;
  const client = {
    async call(op: string, input: unknown) {
      calls.push([op, input]);
      return answer(op, input);
    },
    async subscribe(onEvent: Sub['onEvent'], onClose?: Sub['onClose']) {
      if (refuse) throw new BellaError('unavailable', 'no daemon');
      const sub: Sub = { onEvent, onClose, stopped: false };
      subs.push(sub);
      return () => {
        sub.stopped = true;
      };
    },
  };
  return {
    client: client as unknown as DaemonClient,
    calls,
    subs,
    setRefuse(v: boolean) {
      refuse = v;
    },
  };
}

const event = (id: string): DaemonEvent => ({
  type: 'LeaseIssued',
  at: '2026-01-01T00:00:00.000Z',
  project: 'p',
  environment: 'e',
  leaseIds: [id],
});

let relay: Relay | undefined;
afterEach(() => relay?.close());

describe('relay.invoke', () => {
  it('calls the daemon with the validated input and returns the value', async () => {
    const fake = fakeClient(() => ({ project: { slug: 'acme' } }));
    relay = new Relay(async () => fake.client);
    const r = await relay.invoke('createProject', { slug: 'acme', name: ' Acme ', extra: 'dropped' });
    expect(r).toEqual({ ok: true, value: { project: { slug: 'acme' } } });
    expect(fake.calls).toEqual([['createProject', { slug: 'acme', name: 'Acme' }]]);
  });

  it('treats a missing input as {}', async () => {
    const fake = fakeClient();
    relay = new Relay(async () => fake.client);
    expect((await relay.invoke('listProjects', undefined)).ok).toBe(true);
    expect(fake.calls).toEqual([['listProjects', {}]]);
  });

  it('refuses operations that are not on the admin plane without calling the daemon', async () => {
    const fake = fakeClient();
    const getClient = vi.fn(async () => fake.client);
    relay = new Relay(getClient);
    for (const op of ['readSecrets', 'constructor', '__proto__', 'nope']) {
      const r = await relay.invoke(op, {});
      expect(r).toMatchObject({ ok: false, error: { code: 'permission_denied' } });
    }
    expect(getClient).not.toHaveBeenCalled();
  });

  it('answers invalid input with invalid_argument naming the field, without calling the daemon', async () => {
    const fake = fakeClient();
    relay = new Relay(async () => fake.client);
    const r = await relay.invoke('issueLease', { project: 'p', environment: 'e', scope: [], reason: '' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid_argument');
    expect(r.error.message).toContain('scope: name at least one key or glob');
    expect(r.error.message).toContain('reason: say why this access is needed');
    expect(r.error.details).toMatchObject({
      issues: expect.arrayContaining([expect.objectContaining({ path: ['scope'] })]),
    });
    expect(fake.calls).toEqual([]);
  });

  it('returns a daemon error as a value with its code, message and details', async () => {
    const fake = fakeClient(() => {
      throw new BellaError('not_found', 'no project acme', { project: 'acme' });
    });
    relay = new Relay(async () => fake.client);
    expect(await relay.invoke('listEnvironments', { project: 'acme' })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no project acme', details: { project: 'acme' } },
    });
  });

  it('turns anything else into internal', async () => {
    const fake = fakeClient(() => {
      throw new TypeError('boom');
    });
    relay = new Relay(async () => fake.client);
    expect(await relay.invoke('status', {})).toEqual({
      ok: false,
      error: { code: 'internal', message: 'internal error: boom' },
    });
  });

  it('reports unavailable, and retries a read once after the daemon is found again', async () => {
    let down = true;
    const fake = fakeClient(() => {
      if (down) {
        down = false;
        throw new BellaError('unavailable', 'no daemon');
      }
      return { projects: [] };
    });
    const onUnavailable = vi.fn();
    relay = new Relay(async () => fake.client, { onUnavailable });
    expect(await relay.invoke('listProjects', {})).toEqual({ ok: true, value: { projects: [] } });
    expect(onUnavailable).toHaveBeenCalledOnce();
  });

  it('does not repeat a write after unavailable', async () => {
    const fake = fakeClient(() => {
      throw new BellaError('unavailable', 'no daemon');
    });
    relay = new Relay(async () => fake.client);
    const r = await relay.invoke('revokeLease', { id: 'abcdefgh12345678' });
    expect(r).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(fake.calls).toHaveLength(1);
  });

  it('reports a failure to reach the daemon at all as a value', async () => {
    relay = new Relay(async () => {
      throw new BellaError('unavailable', 'the bella daemon did not start');
    });
    expect(await relay.invoke('status', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });
});

describe('relay.subscribe', () => {
  it('keeps one stream for many listeners and fans events out', async () => {
    const fake = fakeClient();
    relay = new Relay(async () => fake.client);
    const a: DaemonEvent[] = [];
    const b: DaemonEvent[] = [];
    relay.subscribe((e) => a.push(e));
    relay.subscribe((e) => b.push(e));
    await vi.waitFor(() => expect(fake.subs).toHaveLength(1));
    fake.subs[0]!.onEvent(event('l1'));
    expect(a).toEqual([event('l1')]);
    expect(b).toEqual([event('l1')]);
  });

  it('a throwing listener does not starve the others', async () => {
    const fake = fakeClient();
    relay = new Relay(async () => fake.client);
    const seen: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    relay.subscribe(() => {
      throw new Error('bad listener');
    });
    relay.subscribe((e) => seen.push(e.type));
    await vi.waitFor(() => expect(fake.subs).toHaveLength(1));
    fake.subs[0]!.onEvent(event('l1'));
    expect(seen).toEqual(['LeaseIssued']);
    spy.mockRestore();
  });

  it('reconnects with backoff when the stream ends, and asks listeners to refetch', async () => {
    const fake = fakeClient();
    const onUnavailable = vi.fn();
    const onConnectionChange = vi.fn();
    relay = new Relay(async () => fake.client, {
      onUnavailable,
      onConnectionChange,
      backoff: { initialMs: 5, maxMs: 20 },
    });
    const seen: DaemonEvent[] = [];
    relay.subscribe((e) => seen.push(e));
    await vi.waitFor(() => expect(fake.subs).toHaveLength(1));
    fake.setRefuse(true);
    fake.subs[0]!.onClose?.(); // the daemon went away
    await vi.waitFor(() => expect(onUnavailable.mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(fake.subs).toHaveLength(1);
    fake.setRefuse(false); // … and came back
    await vi.waitFor(() => expect(fake.subs).toHaveLength(2));
    expect(fake.subs[0]!.stopped).toBe(true);
    expect(onConnectionChange.mock.calls).toEqual([[true], [false], [true]]);
    expect(seen.map((e) => e.type === 'DataChanged' && e.resource)).toEqual([
      'projects',
      'environments',
      'secrets',
      'policy',
      'notifications',
    ]);
    fake.subs[1]!.onEvent(event('l2'));
    expect(seen.at(-1)).toEqual(event('l2'));
  });

  it('keeps retrying when finding the daemon fails', async () => {
    const fake = fakeClient();
    let failures = 2;
    const getClient = vi.fn(async () => {
      if (failures-- > 0) throw new BellaError('unavailable', 'starting');
      return fake.client;
    });
    relay = new Relay(getClient, { backoff: { initialMs: 1, maxMs: 2 } });
    relay.subscribe(() => {});
    await vi.waitFor(() => expect(fake.subs).toHaveLength(1));
    expect(getClient).toHaveBeenCalledTimes(3);
  });

  it('stops the stream when the last listener leaves, and close() ends everything', async () => {
    const fake = fakeClient();
    relay = new Relay(async () => fake.client);
    const off = relay.subscribe(() => {});
    await vi.waitFor(() => expect(fake.subs).toHaveLength(1));
    off();
    expect(fake.subs[0]!.stopped).toBe(true);
    const seen: DaemonEvent[] = [];
    relay.subscribe((e) => seen.push(e));
    await vi.waitFor(() => expect(fake.subs).toHaveLength(2));
    relay.close();
    expect(fake.subs[1]!.stopped).toBe(true);
    fake.subs[1]!.onEvent(event('late'));
    expect(seen).toEqual([]);
    expect(relay.subscribe(() => {})).toBeTypeOf('function');
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.subs).toHaveLength(2);
  });
});

describe('helpers', () => {
  it('toRelayError keeps a BellaError and hides nothing else but the code', () => {
    expect(toRelayError(new BellaError('conflict', 'exists'))).toEqual({ code: 'conflict', message: 'exists' });
    expect(toRelayError('weird')).toEqual({ code: 'internal', message: 'internal error: weird' });
  });
});
