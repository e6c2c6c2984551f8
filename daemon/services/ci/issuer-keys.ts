import https from 'node:https';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import * as z from 'zod';

// An OIDC issuer's signing keys: discovery (`/.well-known/openid-configuration`), then its
// `jwks_uri`, fetched with Node's https under our own limits and TLS options (jose's
// createRemoteJWKSet cannot take a CA of our choosing nor bound the discovery step).

/** Largest discovery document or JWKS read from an issuer. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** Deadline of one fetch from an issuer, answer included. */
export const FETCH_DEADLINE_MS = 5000;
/** How long fetched keys are used before they are fetched again. */
const CACHE_MS = 3600_000;
/** Key resolvers kept per issuer, and issuers kept (each bound: a map past it is emptied and refilled). */
const MAX_RESOLVERS = 256;

/** An issuer's answer that could not be used: the message says what, the caller refuses the login. */
export class IssuerUnavailable extends Error {}

// Answers from an issuer are untrusted input: checked for their shape before anything is used.
const Discovery = z.looseObject({
  issuer: z.string().max(2048),
  jwks_uri: z.string().max(2048).startsWith('https://', 'jwks_uri is not an https:// URL'),
});
const Jwks = z.object({
  keys: z
    .array(
      z.looseObject({
        kty: z.string().max(16),
        kid: z.string().max(256).optional(),
        alg: z.string().max(32).optional(),
        use: z.string().max(16).optional(),
      }),
    )
    .max(100, 'more than 100 keys'),
});

/** Options of {@link IssuerKeys}. */
export interface IssuerKeysOptions {
  /** Least time between two refetches of one issuer's keys on an unknown `kid`; 30 s by default. */
  minRefetchMs?: number;
  now?: () => number;
}

interface Cached {
  keys: JWTVerifyGetKey;
  fetchedAt: number;
}

/**
 * The signing keys of the issuers trusts name, cached per issuer and CA. An unknown `kid` refetches
 * the issuer's keys once (an issuer rotates keys), at most every `minRefetchMs` per issuer, so a
 * flood of JWTs with made-up `kid`s cannot make the daemon hammer the issuer.
 */
export class IssuerKeys {
  private readonly cache = new Map<string, Cached>();
  private readonly lastFetch = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<Cached>>();
  /** Key resolvers by issuer, then by its CA ('' for none). */
  private readonly resolvers = new Map<string, Map<string, JWTVerifyGetKey>>();
  private readonly minRefetchMs: number;
  private readonly now: () => number;

  constructor(options: IssuerKeysOptions = {}) {
    this.minRefetchMs = options.minRefetchMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * A key resolver for jose's jwtVerify over `issuer`'s keys, refetching once on an unknown kid.
   * Made once per issuer and CA, not per login: its id holds the whole CA, a string that would
   * otherwise be built and hashed again at every login.
   */
  resolver(issuer: string, caPem: string | undefined): JWTVerifyGetKey {
    let byCa = this.resolvers.get(issuer);
    if (!byCa) {
      // Bounded: past that many issuers (trusts come and go) the map is emptied and refilled.
      if (this.resolvers.size >= MAX_RESOLVERS) this.resolvers.clear();
      byCa = new Map();
      this.resolvers.set(issuer, byCa);
    }
    const ca = caPem ?? '';
    let made = byCa.get(ca);
    if (!made) {
      if (byCa.size >= MAX_RESOLVERS) byCa.clear();
      made = this.makeResolver(issuer, caPem);
      byCa.set(ca, made);
    }
    return made;
  }

  private makeResolver(issuer: string, caPem: string | undefined): JWTVerifyGetKey {
    const id = `${issuer}\0${caPem ?? ''}`;
    return async (header, token) => {
      const cached = await this.current(id, issuer, caPem);
      try {
        return await cached.keys(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
        // Defends the issuer and the daemon: one refetch per issuer per minRefetchMs, whatever the flood.
        const last = this.lastFetch.get(id) ?? 0;
        if (this.now() - last < this.minRefetchMs) throw err;
        return (await this.fetch(id, issuer, caPem)).keys(header, token);
      }
    };
  }

  /** The cached keys, fetched when absent or an hour old; a fetch that failed is not retried at once. */
  private current(id: string, issuer: string, caPem: string | undefined): Promise<Cached> {
    const cached = this.cache.get(id);
    if (cached && this.now() - cached.fetchedAt <= CACHE_MS) return Promise.resolve(cached);
    const running = this.inFlight.get(id);
    if (running) return running;
    const last = this.lastFetch.get(id);
    // Defends the issuer and the login path while it is down: one attempt per minRefetchMs, not one per JWT.
    if (last !== undefined && this.now() - last < this.minRefetchMs)
      return Promise.reject(
        new IssuerUnavailable(
          `the keys of ${issuer} could not be fetched a moment ago; bella asks again at most every ${Math.ceil(this.minRefetchMs / 1000)} s`,
        ),
      );
    return this.fetch(id, issuer, caPem);
  }

  private fetch(id: string, issuer: string, caPem: string | undefined): Promise<Cached> {
    const running = this.inFlight.get(id);
    if (running) return running;
    this.lastFetch.set(id, this.now());
    const job = (async () => {
      const base = issuer.replace(/\/+$/, '');
      const discovery = parse(Discovery, await getJson(`${base}/.well-known/openid-configuration`, caPem), 'discovery');
      // OIDC Discovery §4.3: the document names the issuer it was asked for, or it is not that issuer's.
      if (discovery.issuer.replace(/\/+$/, '') !== base)
        throw new IssuerUnavailable(`the discovery document of ${issuer} names another issuer (${discovery.issuer})`);
      const jwks = parse(Jwks, await getJson(discovery.jwks_uri, caPem), 'JWKS');
      let keys: JWTVerifyGetKey;
      try {
        keys = createLocalJWKSet(jwks as JSONWebKeySet);
      } catch (err) {
        throw new IssuerUnavailable(`the JWKS of ${issuer} is not usable: ${(err as Error).message}`);
      }
      const cached = { keys, fetchedAt: this.now() };
      this.cache.set(id, cached);
      return cached;
    })();
    this.inFlight.set(id, job);
    return job.finally(() => this.inFlight.delete(id));
  }
}

function parse<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new IssuerUnavailable(`the issuer's ${what} is malformed (${issue.path.join('.') || what}: ${issue.message})`);
}

/** GETs JSON over https: a deadline for the whole answer, a size limit, the issuer's CA if given. */
function getJson(url: string, caPem: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new IssuerUnavailable(`could not fetch ${url}: ${why}`));
    const req = https.get(
      url,
      {
        ...(caPem ? { ca: caPem } : {}),
        headers: { accept: 'application/json' },
        // No pooled connections kept open to issuers between fetches.
        agent: false,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(`HTTP ${res.statusCode}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // Defends memory: an issuer (or whoever answers for it) cannot make the daemon read more than this.
          if (size > MAX_ANSWER_BYTES) {
            req.destroy();
            fail(`the answer is larger than ${MAX_ANSWER_BYTES / 1024} KiB`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            fail('the answer is not JSON');
          }
        });
        res.on('error', (err) => fail(err.message));
      },
    );
    // Defends the login path against an issuer that never answers (or answers a byte a minute).
    const timer = setTimeout(() => {
      req.destroy();
      fail(`no answer within ${FETCH_DEADLINE_MS / 1000} s`);
    }, FETCH_DEADLINE_MS);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => fail(err.message));
  });
}
