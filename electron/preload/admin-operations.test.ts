import { describe, expect, it } from 'vitest';
import { adminOperations, operations } from '../../daemon/api';
import { ADMIN_OPERATION_NAMES, channelOf, isAdminOperation } from './admin-operations';

describe('ADMIN_OPERATION_NAMES', () => {
  it('is exactly the contract’s admin plane, in order', () => {
    expect([...ADMIN_OPERATION_NAMES]).toEqual(adminOperations);
  });

  it('leaves out the token plane', () => {
    const tokenOps = Object.keys(operations).filter((k) => operations[k as keyof typeof operations].plane === 'token');
    expect(tokenOps.length).toBeGreaterThan(0);
    for (const op of tokenOps) expect(isAdminOperation(op)).toBe(false);
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
