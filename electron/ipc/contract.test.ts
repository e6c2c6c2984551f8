import { describe, expect, expectTypeOf, it } from 'vitest';
import { routes, type OperationName } from '../../daemon/api/routes';
import {
  ADMIN_OPERATION_NAMES,
  channelOf,
  isAdminOperation,
  operationsOnPlane,
  type AdminOperationName,
} from './contract';

describe('operationsOnPlane', () => {
  it('picks the entries of one plane, in table order', () => {
    const table = {
      first: { plane: 'admin' },
      token: { plane: 'token' },
      second: { plane: 'admin' },
    } as const;
    expect(operationsOnPlane(table, 'admin')).toEqual(['first', 'second']);
    expect(operationsOnPlane(table, 'token')).toEqual(['token']);
    expectTypeOf(operationsOnPlane(table, 'admin')).toEqualTypeOf<Array<'first' | 'second'>>();
  });
});

describe('ADMIN_OPERATION_NAMES', () => {
  it('is derived from the route table: every admin route and no token route', () => {
    const tokenOps = (Object.keys(routes) as OperationName[]).filter((op) => routes[op].plane === 'token');
    expect(tokenOps).toContain('readSecrets');
    expect(ADMIN_OPERATION_NAMES.length + tokenOps.length).toBe(Object.keys(routes).length);
    for (const op of ADMIN_OPERATION_NAMES) expect(routes[op].plane).toBe('admin');
    for (const op of tokenOps) expect(isAdminOperation(op)).toBe(false);
    expect(Object.isFrozen(ADMIN_OPERATION_NAMES)).toBe(true);
    expectTypeOf<'readSecrets'>().not.toExtend<AdminOperationName>();
    expectTypeOf<'listProjects'>().toExtend<AdminOperationName>();
  });

  it('recognises names only, not prototype keys or other values', () => {
    expect(isAdminOperation('listProjects')).toBe(true);
    for (const bad of ['constructor', '__proto__', 'toString', 'readSecrets', '', 42, null, undefined]) {
      expect(isAdminOperation(bad)).toBe(false);
    }
  });

  it('gives each operation its own channel', () => {
    expect(channelOf('issueLease')).toBe('bella:issueLease');
    expect(new Set(ADMIN_OPERATION_NAMES.map(channelOf)).size).toBe(ADMIN_OPERATION_NAMES.length);
  });
});
