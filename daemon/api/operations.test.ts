import * as real from 'zod';
import { describe, expect, it, vi } from 'vitest';

// Counts the object schemas built, to see when the contract builds its input schemas.
const built = vi.hoisted(() => ({ objects: 0 }));
vi.mock('zod', async (importOriginal) => {
  const z = await importOriginal<typeof real>();
  return {
    ...z,
    object: (...args: Parameters<typeof z.object>) => {
      built.objects++;
      return z.object(...args);
    },
  };
});

const { operations } = await import('./operations');
const names = Object.keys(operations) as Array<keyof typeof operations>;

describe('the input schemas of the contract', () => {
  it('are built at an operation’s first use, one operation at a time, and kept', () => {
    for (const name of names) {
      const input = Object.getOwnPropertyDescriptor(operations[name], 'input');
      expect([name, typeof input?.get, input?.enumerable]).toEqual([name, 'function', true]);
    }
    const atImport = built.objects;
    // Nothing is built at import, not even the shared building blocks (schemas.ts: ProjectRef, …):
    // an operation's input and the blocks it uses are built when it is read.
    expect(atImport).toBe(0);

    const createProject = operations.createProject.input;
    expect(built.objects).toBe(atImport + 1);
    expect(operations.createProject.input).toBe(createProject);
    expect(built.objects).toBe(atImport + 1);

    // Every operation has its schema, each built once, and each as strict as written.
    const all = new Map(names.map((name) => [name, operations[name].input]));
    for (const name of names) expect(operations[name].input).toBe(all.get(name));
    expect(createProject.safeParse({ slug: 'web', name: 'Web' }).success).toBe(true);
    expect(createProject.safeParse({ slug: 'Web!', name: 'Web' }).success).toBe(false);
    expect(
      operations.issueLease.input.safeParse({ project: 'p', environment: 'e', scope: [], reason: 'r' }).success,
    ).toBe(false);
    expect(operations.status.input.safeParse({}).success).toBe(true);
  });

  it('keep the route fields as plain values', () => {
    expect(operations.issueLease).toMatchObject({ method: 'POST', path: '/v1/leases', plane: 'admin' });
    expect(operations.readSecrets.plane).toBe('token');
  });
});
