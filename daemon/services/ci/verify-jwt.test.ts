import { describe, expect, it } from 'vitest';
import type { StoredCiTrust } from '../../store';
import { IssuerKeys } from './issuer-keys';
import { CiDenied, verifyJwt } from './verify-jwt';

// What verifyJwt refuses before it looks up any key (so no issuer is contacted here): the
// malformed, the algorithms outside the allow-list, and JWTs no trust is a candidate for.

const trust: StoredCiTrust = {
  name: 't',
  project: 'p',
  environment: 'e',
  scope: ['A'],
  ttlSeconds: 900,
  issuer: 'https://127.0.0.1:9',
  audience: 'https://127.0.0.1:8443',
  claims: [{ claim: 'repository', pattern: 'org/*' }],
  createdAt: 0,
};
const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const good = { iss: trust.issuer, aud: trust.audience, repository: 'org/app', iat: 1, exp: 2 };
const jwt = (header: unknown, payload: unknown, signature = 'c2ln') => `${b64(header)}.${b64(payload)}.${signature}`;

async function refusal(token: string): Promise<string> {
  const keys = new IssuerKeys({ now: () => 0 });
  const err = await verifyJwt(token, [trust], keys, 0).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CiDenied);
  return (err as CiDenied).audit;
}

describe('verifyJwt before any key', () => {
  it('refuses what is not a compact JWS of two JSON objects as malformed', async () => {
    const header = { alg: 'ES256' };
    for (const token of [
      '',
      'abc',
      `${b64(header)}.${b64(good)}`,
      `${jwt(header, good)}.x.y`,
      `${b64(header)}.${b64(good)}+.c2ln`,
      `${b64(header)}.${b64(good)}=.c2ln`,
      `${b64(header)}.${b64(good)} .c2ln`,
      `${b64(header)}..c2ln`,
      `${b64('not json')}.${b64(good)}.c2ln`,
      jwt(header, 'not json'),
      jwt(header, [good]),
      jwt(header, null),
      jwt([header], good),
    ])
      expect(await refusal(token)).toBe('malformed JWT');
  });

  it('refuses none, HMAC and a missing algorithm before any key is looked up', async () => {
    expect(await refusal(jwt({ alg: 'none' }, good, ''))).toBe('algorithm none not allowed');
    expect(await refusal(jwt({ alg: 'HS256' }, good))).toBe('algorithm HS256 not allowed');
    expect(await refusal(jwt({ typ: 'JWT' }, good))).toBe('algorithm missing not allowed');
  });

  it('refuses an issuer or an audience no trust names', async () => {
    expect(await refusal(jwt({ alg: 'ES256' }, { ...good, iss: 'https://127.0.0.2:9' }))).toBe(
      'no trust for issuer https://127.0.0.2:9',
    );
    expect(await refusal(jwt({ alg: 'ES256' }, { ...good, aud: ['https://127.0.0.3:9', 7] }))).toBe(
      'audience https://127.0.0.3:9 matches no trust of https://127.0.0.1:9',
    );
  });
});
