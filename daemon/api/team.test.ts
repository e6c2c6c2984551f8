import { describe, expect, it } from 'vitest';
import { formatGrant, formatInviteCode, parseGrant, parseInviteCode } from './team';

describe('grants and invite codes', () => {
  it('reads and writes PROJECT/ENV:issue|request, refusing anything else', () => {
    expect(parseGrant('my-api/production:issue')).toEqual({
      project: 'my-api',
      environment: 'production',
      access: 'issue',
    });
    expect(formatGrant(parseGrant(' my-api/staging:request ')!)).toBe('my-api/staging:request');
    for (const bad of ['my-api/production', 'my-api:issue', 'My-Api/prod:issue', 'a/b:approve', 'a/b/c:issue'])
      expect([bad, parseGrant(bad)]).toEqual([bad, null]);
  });

  it('round-trips an invite code and refuses damaged or foreign ones', () => {
    const code = {
      server: 'https://10.0.0.5:7443',
      fingerprint: `sha256:${'ab'.repeat(32)}`,
      id: 'inv_abcdefghij012345',
      secret: 'A'.repeat(43),
    };
    const text = formatInviteCode(code);
    expect(text).toMatch(/^bella-invite-[A-Za-z0-9_-]+$/);
    expect(parseInviteCode(`  ${text}\n`)).toEqual(code);
    expect(parseInviteCode(text.slice(0, -4))).toBeNull();
    expect(parseInviteCode('bax-abc')).toBeNull();
    expect(parseInviteCode(formatInviteCode({ ...code, server: 'http://10.0.0.5:7443' }))).toBeNull();
    expect(parseInviteCode(formatInviteCode({ ...code, fingerprint: 'sha256:00' }))).toBeNull();
    expect(parseInviteCode(formatInviteCode({ ...code, secret: 'short' }))).toBeNull();
  });

  it("carries every node's URL, each with its pin, and refuses a list whose pins do not match it", () => {
    const pin = `sha256:${'ab'.repeat(32)}`;
    const code = {
      server: 'https://10.0.0.5:7443,https://b.lan:7443',
      fingerprint: `${pin},${pin}`,
      id: 'inv_abcdefghij012345',
      secret: 'A'.repeat(43),
    };
    expect(parseInviteCode(formatInviteCode(code))).toEqual(code);
    // As the listener wrote them: an address need not be in the URL standard's own spelling.
    const spelled = { ...code, server: 'https://[2001:db8:0:0::1]:7443,https://B.lan:7443' };
    expect(parseInviteCode(formatInviteCode(spelled))).toEqual(spelled);
    expect(parseInviteCode(formatInviteCode({ ...code, fingerprint: pin }))).toBeNull();
    expect(parseInviteCode(formatInviteCode({ ...code, server: 'https://a.lan:7443,http://b.lan:7443' }))).toBeNull();
    expect(
      parseInviteCode(formatInviteCode({ ...code, server: 'https://a.lan:7443,https://b.lan:7443/x' })),
    ).toBeNull();
  });
});
