import { createHash } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import type { StoredCiTrust } from '../../store';
import { failedRule, printable, type Claims } from './claims';
import { IssuerUnavailable, type IssuerKeys } from './issuer-keys';

/** Asymmetric algorithms only: never `none`, never HMAC (whose "secret" would be the issuer's public key). */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
/** Clock skew allowed on `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW_SECONDS = 60;
/** Claims a JWT must carry (jose checks their presence; their values are checked as times). */
const REQUIRED_CLAIMS = ['exp', 'iat'];
/** A JWT issued longer ago than this is refused, whatever its `exp` says (CI tokens live minutes). */
export const MAX_TOKEN_AGE_SECONDS = 600;

/** A refused JWT: `client` is what the caller is told, `audit` what the trail keeps (more precise). */
export class CiDenied extends Error {
  constructor(
    readonly client: string,
    readonly audit: string,
    readonly trust: StoredCiTrust | null = null,
    readonly unavailable = false,
  ) {
    super(client);
  }
}

/** A JWT that passed every check: its claims, the trust it matched, and its replay key. */
export interface VerifiedJwt {
  claims: Claims;
  trust: StoredCiTrust;
  /** SHA-256 (hex) of the issuer and `jti`, or of the whole JWT when it has no `jti`. */
  replayKey: string;
  /** Until when the replay key must be remembered (ms): past it the JWT is refused as too old or expired. */
  rememberUntil: number;
}

/**
 * Verifies a CI job's JWT against the trusts (in name order): the trusts of its issuer and
 * audience are the candidates; the signature is checked against the issuer's keys, then `exp`,
 * `nbf`, `iat` (with {@link CLOCK_SKEW_SECONDS}) and the age limit; the first candidate whose
 * claim rules all hold is the trust. Throws {@link CiDenied} with the reason otherwise.
 */
export async function verifyJwt(
  jwt: string,
  trusts: StoredCiTrust[],
  keys: IssuerKeys,
  now: number,
): Promise<VerifiedJwt> {
  const { alg, payload: unverified } = peek(jwt);
  // Defends against algorithm confusion before any key is looked up (`none`, HS256 with a public key).
  if (typeof alg !== 'string' || !ALLOWED_ALGORITHMS.includes(alg)) {
    const name = typeof alg === 'string' ? alg.slice(0, 20) : 'missing';
    throw new CiDenied(`algorithm ${name} is not allowed`, `algorithm ${name} not allowed`);
  }
  const iss = typeof unverified.iss === 'string' ? unverified.iss : '';
  const byIssuer = trusts.filter((t) => sameIssuer(t.issuer, iss));
  if (!byIssuer.length)
    throw new CiDenied('no CI trust names this issuer', `no trust for issuer ${printable(iss) || '(none)'}`);
  // Not yet verified, so any shape: only strings count (an object here must not reach .includes).
  const rawAud: unknown = unverified.aud;
  const aud =
    typeof rawAud === 'string'
      ? [rawAud]
      : Array.isArray(rawAud)
        ? rawAud.filter((a): a is string => typeof a === 'string')
        : [];
  const candidates = byIssuer.filter((t) => aud.includes(t.audience));
  if (!candidates.length)
    throw new CiDenied(
      'no CI trust of this issuer has this audience',
      `audience ${printable(aud.join(','))} matches no trust of ${printable(iss)}`,
    );

  const first = candidates[0]!;
  let claims: Claims;
  try {
    const verified = await jwtVerify(jwt, keys.resolver(first.issuer, first.issuerCaPem), {
      issuer: iss,
      audience: first.audience,
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      maxTokenAge: MAX_TOKEN_AGE_SECONDS,
      requiredClaims: REQUIRED_CLAIMS,
      currentDate: new Date(now),
    });
    claims = verified.payload as Claims;
  } catch (err) {
    throw denial(err, first);
  }
  // Candidates share the issuer, so its keys verified the JWT for all of them; the claims decide.
  let firstFailure: string | null = null;
  for (const trust of candidates) {
    if (trust.issuerCaPem !== first.issuerCaPem) continue;
    const failed = failedRule(trust.claims, claims);
    if (!failed) {
      const { replayKey, rememberUntil } = replay(jwt, claims, now);
      return { claims, trust, replayKey, rememberUntil };
    }
    firstFailure ??= `trust ${trust.name}: ${failed.why}`;
  }
  throw new CiDenied('the token’s claims match no CI trust', firstFailure ?? 'claims match no trust', first);
}

/** The unpadded base64url alphabet: a JWT's header and payload are made of nothing else. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The header's `alg` and the claims of a JWT not yet verified, read once to choose the trusts to
 * verify it against (jose's jwtVerify decodes and checks it all again, strictly). Node's native
 * base64url decoder: a second decode through jose's `decodeJwt` and `decodeProtectedHeader` cost
 * more than the rest of the candidate choice.
 */
function peek(jwt: string): { alg: unknown; payload: Record<string, unknown> } {
  const parts = jwt.split('.');
  if (parts.length === 3 && BASE64URL.test(parts[0]!) && BASE64URL.test(parts[1]!)) {
    try {
      const header: unknown = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
      if (isObject(header) && isObject(payload)) return { alg: header.alg, payload };
    } catch {
      // Not JSON: refused below, as any other malformed JWT.
    }
  }
  throw new CiDenied('the id token is not a JWT', 'malformed JWT');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function replay(jwt: string, claims: Claims, now: number): { replayKey: string; rememberUntil: number } {
  const jti = typeof claims.jti === 'string' && claims.jti ? claims.jti : null;
  // Only the issuer signs: its jti names the JWT; without one, the JWT's own bytes do.
  const replayKey = createHash('sha256')
    .update(jti ? `${String(claims.iss)}\0jti\0${jti}` : jwt)
    .digest('hex');
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : now;
  const iat = typeof claims.iat === 'number' ? claims.iat * 1000 : now;
  // Past this instant the JWT is refused anyway (expired, or older than the age limit).
  const rememberUntil = Math.min(exp, iat + MAX_TOKEN_AGE_SECONDS * 1000) + CLOCK_SKEW_SECONDS * 1000;
  return { replayKey, rememberUntil };
}

function denial(err: unknown, trust: StoredCiTrust): CiDenied {
  if (err instanceof IssuerUnavailable)
    return new CiDenied('the issuer’s keys could not be fetched', err.message, trust, true);
  // jose reports an iat past the age limit as JWTExpired with claim iat, a future one as a failed iat check.
  if (err instanceof errors.JWTExpired)
    return err.claim === 'iat'
      ? new CiDenied('the token is too old', `too old (issued more than ${MAX_TOKEN_AGE_SECONDS / 60} min ago)`, trust)
      : new CiDenied('the token has expired', 'expired', trust);
  if (err instanceof errors.JWTClaimValidationFailed) {
    const why =
      err.claim === 'nbf'
        ? 'not yet valid'
        : err.claim === 'iat'
          ? 'issued in the future'
          : `claim ${err.claim} ${err.reason}`;
    return new CiDenied(`the token is ${why.startsWith('claim') ? 'refused' : why}`, why, trust);
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return new CiDenied('the token’s key is not the issuer’s', 'unknown kid', trust);
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new CiDenied('the token’s algorithm is not allowed', 'algorithm not allowed', trust);
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return new CiDenied('the token’s signature does not verify', 'bad signature', trust);
  return new CiDenied(
    'the id token is not a valid JWT',
    `invalid JWT (${(err as Error).message?.slice(0, 100)})`,
    trust,
  );
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}
