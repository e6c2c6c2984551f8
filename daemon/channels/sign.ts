import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { BellaError } from '../api/errors';
import type { Channel } from './types';

type Webhook = import('standardwebhooks').Webhook;
let loaded: typeof import('standardwebhooks').Webhook | null = null;

/** A `standardwebhooks` Webhook, the library loaded on first use: a daemon without webhooks never holds it (issue 21). */
function webhook(secret: string): Webhook {
  loaded ??= (createRequire(import.meta.url)('standardwebhooks') as typeof import('standardwebhooks')).Webhook;
  return new loaded(secret);
}

const SECRET_PREFIX = 'whsec_';
/** 256 bits of key: as strong as HMAC-SHA256 gets, so a signature cannot be forged by guessing the key. */
const SECRET_BYTES = 32;

/** The three Standard Webhooks headers of one signed request. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * A new signing secret: `whsec_` + base64 of 32 random bytes, printed once at `add` (and at
 * rotation) for the receiver to verify with any Standard Webhooks library.
 */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * Checks a `whsec_…` secret the owner supplied (e.g. re-using a receiver's): throws
 * `invalid_argument` if the library cannot use it. The message never repeats the secret.
 */
export function validateWebhookSecret(secret: string): void {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new BellaError('invalid_argument', 'a webhook secret starts with whsec_ followed by base64');
  }
  try {
    webhook(secret);
  } catch {
    throw new BellaError('invalid_argument', 'the webhook secret is not valid base64 after whsec_');
  }
}

/**
 * Signs one request body with the `standardwebhooks` library. `secrets` are tried in order (the
 * current one, then a previous one still valid during a rotation); each adds a `v1,…` signature,
 * space-separated as the specification allows. `atMs` is the attempt time: the signature covers
 * `id.timestamp.body`, so a receiver's tolerance window (5 min by default) defeats the replay of
 * an old captured request, while the id stays the same on every attempt for de-duplication.
 */
export function signWebhook(secrets: readonly string[], id: string, atMs: number, body: string): SignatureHeaders {
  if (secrets.length === 0) throw new BellaError('internal', 'a webhook channel has no signing secret');
  const seconds = Math.floor(atMs / 1000);
  const at = new Date(seconds * 1000);
  const signatures = secrets.map((secret) => webhook(secret).sign(id, at, body));
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': signatures.join(' ') };
}

/** The secrets a webhook is signed with at `atMs`: its own, and the one it replaced during the overlap. */
export function signingSecrets(channel: Channel, atMs: number): string[] {
  return [
    channel.secret,
    channel.previousSecret && channel.previousSecret.until > atMs ? channel.previousSecret.secret : undefined,
  ].filter((s): s is string => Boolean(s));
}
