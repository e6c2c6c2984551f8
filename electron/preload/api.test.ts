import vm from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { ADMIN_OPERATION_NAMES, type BellaApiError, type RelayResult } from '../ipc/contract';
import { buildBellaApi, createBellaApi, type OperationCalls } from './api';

const noEvents = () => () => {};

describe('createBellaApi', () => {
  it('has one function per admin operation plus onEvent, and is frozen', () => {
    const api = createBellaApi(async () => ({ ok: true, value: null }), noEvents);
    expect(Object.keys(api).sort()).toEqual([...ADMIN_OPERATION_NAMES, 'onEvent'].sort());
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('calls invoke with the operation name and input ({} when omitted) and resolves to the value', async () => {
    const invoke = vi.fn(async (op: string): Promise<RelayResult> => ({ ok: true, value: { op } }));
    const api = createBellaApi(invoke, noEvents);
    await expect(api.createProject({ slug: 'acme', name: 'Acme' })).resolves.toEqual({ op: 'createProject' });
    await api.listProjects();
    expect(invoke.mock.calls).toEqual([
      ['createProject', { slug: 'acme', name: 'Acme' }],
      ['listProjects', {}],
    ]);
  });

  it('rethrows { ok: false } as an Error with code and details', async () => {
    const api = createBellaApi(
      async () => ({
        ok: false,
        error: { code: 'conflict', message: 'project acme exists', details: { slug: 'acme' } },
      }),
      noEvents,
    );
    const err = (await api.createProject({ slug: 'acme', name: 'Acme' }).catch((e: unknown) => e)) as BellaApiError;
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BellaApiError');
    expect(err.message).toBe('project acme exists');
    expect(err.code).toBe('conflict');
    expect(err.details).toEqual({ slug: 'acme' });
  });

  it('turns a transport failure into an internal error', async () => {
    const api = createBellaApi(() => Promise.reject(new Error('No handler registered')), noEvents);
    await expect(api.status()).rejects.toMatchObject({ code: 'internal', message: 'No handler registered' });
  });

  it('passes onEvent through to subscribe and returns its unsubscribe', () => {
    const unsubscribe = vi.fn();
    const subscribe = vi.fn(() => unsubscribe);
    const api = createBellaApi(async () => ({ ok: true, value: null }), subscribe);
    const cb = () => {};
    api.onEvent(cb)();
    expect(subscribe).toHaveBeenCalledWith(cb);
    expect(unsubscribe).toHaveBeenCalledOnce();
    expect(() => api.onEvent(42 as never)).toThrow(TypeError);
  });
});

describe('buildBellaApi', () => {
  it('still works when serialised and run in another realm (contextBridge.executeInMainWorld)', async () => {
    const realm = vm.createContext({});
    const fn = vm.runInContext(`(${buildBellaApi.toString()})`, realm) as typeof buildBellaApi;
    const calls: OperationCalls = {
      status: async () => ({ ok: true, value: { version: '1' } }),
      getLease: async () => ({ ok: false, error: { code: 'not_found', message: 'no lease l1' } }),
    };
    fn(['status', 'getLease'], calls, noEvents, 'bella');
    const api = vm.runInContext('globalThis.bella', realm) as Record<string, (i?: unknown) => Promise<unknown>>;
    await expect(api.status!()).resolves.toEqual({ version: '1' });
    const err = (await api.getLease!({ id: 'l1' }).catch((e: unknown) => e)) as BellaApiError;
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('no lease l1');
    expect(vm.runInContext('err => err instanceof Error', realm)(err)).toBe(true);
    expect(
      vm.runInContext(`(() => { 'use strict'; try { globalThis.bella = 1; } catch { return 'readonly'; } })()`, realm),
    ).toBe('readonly');
  });

  it('refuses a name without a call', () => {
    expect(() => buildBellaApi(['status'], {}, noEvents)).toThrow(/no call for status/);
  });
});
