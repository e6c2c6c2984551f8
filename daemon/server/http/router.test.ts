import { describe, expect, it } from 'vitest';
import { operations, type OperationName } from '../../api';
import { Router } from './router';

const router = new Router(
  [
    { method: 'GET', path: '/v1/projects', value: 'list' },
    { method: 'POST', path: '/v1/projects', value: 'create' },
    { method: 'DELETE', path: '/v1/projects/:project', value: 'delete' },
    { method: 'GET', path: '/v1/projects/:project/environments/:environment/secrets/:key', value: 'get' },
    { method: 'GET', path: '/v1/leases/:id', value: 'lease' },
    { method: 'GET', path: '/v1/leases/expiring', value: 'static' },
  ],
  300,
);

describe('the router compiled from a route table', () => {
  it('matches static paths by method, with the query string apart', () => {
    expect(router.find('GET', '/v1/projects?all=1&x=%20')).toEqual({
      kind: 'found',
      value: 'list',
      params: {},
      query: 'all=1&x=%20',
    });
    expect(router.find('POST', '/v1/projects')).toMatchObject({ kind: 'found', value: 'create', query: '' });
  });

  it('names each parameter, percent-decoded segment by segment (%2F stays inside its parameter)', () => {
    expect(router.find('GET', '/v1/projects/my%20app/environments/prod/secrets/a%2Fb%25c')).toEqual({
      kind: 'found',
      value: 'get',
      params: { project: 'my app', environment: 'prod', key: 'a/b%c' },
      query: '',
    });
    expect(router.find('GET', '/v1/projects/%E2%9C%93/environments/e/secrets/K')).toMatchObject({
      params: { project: '✓' },
    });
  });

  it('answers bad-url for percent-encoding that does not decode (broken escapes, invalid UTF-8)', () => {
    for (const target of ['/v1/projects/%zz', '/v1/projects/%', '/v1/projects/%ff', '/v1/nowhere/%e2%82']) {
      expect(router.find('DELETE', target)).toMatchObject({
        kind: 'bad-url',
        message: expect.stringContaining(target),
      });
    }
    // In the query string it is left to the query parser.
    expect(router.find('GET', '/v1/projects?x=%zz')).toMatchObject({ kind: 'found', query: 'x=%zz' });
  });

  it('prefers a static segment to a parameter, whatever the order of the table', () => {
    expect(router.find('GET', '/v1/leases/expiring')).toMatchObject({ value: 'static' });
    expect(router.find('GET', '/v1/leases/abc')).toMatchObject({ value: 'lease', params: { id: 'abc' } });
  });

  it('finds a static path however it is written: percent-escaped, with HEAD, or with another method leading to a parameter', () => {
    expect(router.find('GET', '/v1/%70rojects')).toMatchObject({ kind: 'found', value: 'list' });
    expect(router.find('GET', '/v1/leases/%65xpiring')).toMatchObject({ kind: 'found', value: 'static', params: {} });
    expect(router.find('HEAD', '/v1/projects')).toMatchObject({ kind: 'found', value: 'list' });
    expect(router.find('GET', '/v1/projects#part')).toMatchObject({ kind: 'found', value: 'list', query: '' });
    const mixed = new Router(
      [
        { method: 'GET', path: '/a/b', value: 'static' },
        { method: 'POST', path: '/a/:x', value: 'param' },
      ],
      10,
    );
    expect(mixed.find('POST', '/a/b')).toEqual({ kind: 'found', value: 'param', params: { x: 'b' }, query: '' });
    expect(mixed.find('GET', '/a/b')).toEqual({ kind: 'found', value: 'static', params: {}, query: '' });
    expect(mixed.find('PUT', '/a/b')).toEqual({ kind: 'wrong-method', allowed: ['GET', 'POST'] });
  });

  it('tells a path served with other methods (wrong-method) from one not served at all (not-found)', () => {
    expect(router.find('PUT', '/v1/projects')).toEqual({ kind: 'wrong-method', allowed: ['GET', 'POST'] });
    expect(router.find('GET', '/v1/projects/app')).toEqual({ kind: 'wrong-method', allowed: ['DELETE'] });
    for (const target of [
      '/v1/project',
      '/v1/projects/a/',
      '/v1//projects',
      '/projects',
      '/v1/projects/a/b',
      'v1/projects',
      '',
    ]) {
      expect(router.find('GET', target), target).toEqual({ kind: 'not-found' });
    }
  });

  it('matches an empty parameter (the input schema refuses it)', () => {
    expect(router.find('DELETE', '/v1/projects/')).toMatchObject({ kind: 'found', params: { project: '' } });
  });

  it('answers HEAD with the GET route', () => {
    expect(router.find('HEAD', '/v1/leases/abc')).toMatchObject({ kind: 'found', value: 'lease' });
  });

  it('matches no parameter longer than the limit once decoded', () => {
    expect(router.find('GET', `/v1/leases/${'a'.repeat(300)}`)).toMatchObject({ kind: 'found' });
    expect(router.find('GET', `/v1/leases/${'a'.repeat(301)}`)).toEqual({ kind: 'not-found' });
    // Counted after decoding: 300 encoded spaces are 300 characters.
    expect(router.find('GET', `/v1/leases/${'%20'.repeat(300)}`)).toMatchObject({ kind: 'found' });
  });

  it('compiles the contract table: every operation is found at its own path with its parameters', () => {
    const table = new Router(
      (Object.keys(operations) as OperationName[]).map((name) => ({
        method: operations[name].method,
        path: operations[name].path,
        value: name,
      })),
      300,
    );
    for (const name of Object.keys(operations) as OperationName[]) {
      const { method, path } = operations[name];
      const target = path.replace(/:([a-z]+)/gi, (_m, p: string) => `${p}-value`);
      const match = table.find(method, target);
      expect(match, name).toMatchObject({ kind: 'found', value: name });
    }
  });

  it('refuses a table with the same route twice', () => {
    expect(
      () =>
        new Router(
          [
            { method: 'GET', path: '/a/:x', value: 1 },
            { method: 'GET', path: '/a/:y', value: 2 },
          ],
          10,
        ),
    ).toThrow('duplicate route: GET /a/:y');
  });
});
