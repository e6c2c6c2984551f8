import { describe, expect, it } from 'vitest';
import { IssuerKeys, IssuerUnavailable } from './issuer-keys';

describe('IssuerKeys', () => {
  it('asks an issuer that is down once per minRefetchMs, not once per JWT', async () => {
    let now = 1_000_000;
    const keys = new IssuerKeys({ minRefetchMs: 30_000, now: () => now });
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const resolve = keys.resolver('https://127.0.0.1:1', undefined);
    const header = { alg: 'ES256', kid: 'k1' };
    const attempt = () => Promise.resolve(resolve(header, {} as never)).catch((err: unknown) => err);
    const first = await attempt();
    expect(first).toBeInstanceOf(IssuerUnavailable);
    expect((first as Error).message).toMatch(
      /could not fetch https:\/\/127\.0\.0\.1:1\/\.well-known\/openid-configuration/,
    );
    const second = await attempt();
    expect((second as Error).message).toContain('could not be fetched a moment ago');
    now += 30_001;
    const third = await attempt();
    expect((third as Error).message).toMatch(/could not fetch/);
  });
});
