import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { BellaError } from '../api/errors';
import { newMessageId } from './outbox-items';
import { generateWebhookSecret, signWebhook, validateWebhookSecret } from './sign';
import { bellaErrorOf } from '../../test/helpers/channels';

describe('webhook secrets', () => {
  it('are whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(() => validateWebhookSecret(a)).not.toThrow();
  });

  it('refuses a secret without the prefix or with broken base64, without repeating it', () => {
    for (const bad of ['c2VjcmV0', 'whsec_', 'whsec_not base64!!']) {
      const error = bellaErrorOf(() => validateWebhookSecret(bad));
      expect(error.code).toBe('invalid_argument');
      const secretPart = bad.replace(/^whsec_/, '');
      if (secretPart) expect(error.message).not.toContain(secretPart);
    }
  });
});

describe('signWebhook', () => {
  const body = JSON.stringify({ type: 'LeaseIssued', timestamp: '2026-11-28T12:00:00.000Z', data: { project: 'p' } });

  it("produces headers the standardwebhooks library's own verify accepts", () => {
    const secret = generateWebhookSecret();
    const id = newMessageId();
    const headers = signWebhook([secret], id, Date.now(), body);
    expect(headers['webhook-id']).toBe(id);
    expect(headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification for another body, another secret or an old timestamp', () => {
    const secret = generateWebhookSecret();
    const headers = { ...signWebhook([secret], newMessageId(), Date.now(), body) };
    expect(() => new Webhook(secret).verify(body.replace('"p"', '"q"'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    const old = { ...signWebhook([secret], newMessageId(), Date.now() - 10 * 60_000, body) };
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/too old/);
  });

  it('signs with both secrets during a rotation, so either verifies', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    const headers = { ...signWebhook([current, previous], newMessageId(), Date.now(), body) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('refuses to sign without a secret', () => {
    expect(() => signWebhook([], newMessageId(), Date.now(), body)).toThrow(BellaError);
  });
});
