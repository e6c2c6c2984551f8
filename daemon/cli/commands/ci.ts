import fs from 'node:fs';
import path from 'node:path';
import { GITHUB_ISSUER, GITLAB_ISSUER, type ClaimRule } from '../../api/ci';
import { formatDuration } from '../../api/durations';
import { BellaError } from '../../api/errors';
import { formatWhen } from '../format';
import { UsageError } from '../framework/errors';
import { listOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { connectTokenPlane } from '../token-plane';
import { dbOption, environmentOption, projectOption, remoteOptions, scopeOption, ttlOption } from './shared-options';

type AddOpts = {
  project?: string;
  environment?: string;
  scope: string[];
  ttl?: number;
  issuer?: string;
  audience?: string;
  claim?: string[];
  github?: string;
  gitlab?: string;
  issuerCa?: string;
  db?: string;
};

/** `OWNER/REPO[@REF]` of a preset: the claim rules it stands for. */
function presetClaims(flag: string, text: string, repoClaim: string): ClaimRule[] {
  const at = text.indexOf('@');
  const repo = at < 0 ? text : text.slice(0, at);
  const ref = at < 0 ? undefined : text.slice(at + 1);
  if (!/^[^/\s@]+(\/[^/\s@]+)+$/.test(repo))
    throw new UsageError(`--${flag} takes OWNER/REPO[@REF], e.g. --${flag} acme/api@refs/heads/main, not '${text}'`);
  if (ref === '')
    throw new UsageError(`--${flag} ${text}: name the ref after @, e.g. @refs/heads/main, or leave @ out`);
  // Without @REF any ref of the repository is trusted: say so with an explicit `*`.
  return [
    { claim: repoClaim, pattern: repo },
    { claim: 'ref', pattern: ref ?? '*' },
  ];
}

/** `--claim KEY=GLOB` rules. */
function claimRules(texts: string[]): ClaimRule[] {
  return texts.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim takes KEY=GLOB, e.g. --claim repository=acme/api, not '${text}'`);
    return { claim: text.slice(0, eq), pattern: text.slice(eq + 1) };
  });
}

/** `bella ci trust add NAME`: nothing is sent to the issuer (it is first asked at a login). */
export const addTrust: Action = async (cli, { args, opts }) => {
  const o = opts as AddOpts;
  const presets = [o.github !== undefined, o.gitlab !== undefined].filter(Boolean).length;
  if (presets > 1) throw new UsageError('give either --github or --gitlab, not both');
  let issuer = o.issuer;
  let claims = claimRules(o.claim ?? []);
  if (o.github !== undefined || o.gitlab !== undefined) {
    const [flag, preset, repoClaim] =
      o.github !== undefined
        ? (['github', GITHUB_ISSUER, 'repository'] as const)
        : (['gitlab', GITLAB_ISSUER, 'project_path'] as const);
    if (issuer && issuer !== preset) throw new UsageError(`--${flag} sets the issuer (${preset}): leave --issuer out`);
    issuer = preset;
    claims = [...presetClaims(flag, (o.github ?? o.gitlab) as string, repoClaim), ...claims];
  }
  if (!issuer)
    throw new UsageError('name the issuer: --issuer https://… (or --github OWNER/REPO, --gitlab GROUP/PROJECT)');
  if (!claims.length)
    throw new UsageError('give at least one --claim KEY=GLOB: without one, every job of the issuer would be trusted');
  let issuerCaPem: string | undefined;
  if (o.issuerCa !== undefined) {
    try {
      issuerCaPem = fs.readFileSync(path.resolve(cli.io.cwd, o.issuerCa), 'utf8');
    } catch (err) {
      throw new BellaError(
        'invalid_argument',
        `cannot read --issuer-ca ${o.issuerCa}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    if (!issuerCaPem.includes('-----BEGIN CERTIFICATE-----'))
      throw new BellaError('invalid_argument', `--issuer-ca ${o.issuerCa} holds no PEM certificate`);
  }
  const ref = cli.environmentRef(o);
  const res = await cli.call('addCiTrust', {
    name: args.NAME as string,
    ...ref,
    scope: o.scope,
    ttlSeconds: o.ttl,
    issuer,
    audience: o.audience,
    claims,
    issuerCaPem,
    db: o.db,
  });
  const t = res.trust;
  cli.print(res, () =>
    [
      `trusted ${t.name}: JWTs of ${t.issuer} for audience ${t.audience} with ${t.claims.map((c) => `${c.claim}=${c.pattern}`).join(', ')}`,
      `buy a lease of ${t.project}/${t.environment}, scope ${t.scope.join(',')}, for ${formatDuration(t.ttlSeconds)}` +
        (res.capped ? ` (capped by the environment's policy from ${formatDuration(res.capped.requestedSeconds)})` : ''),
      `in the job: BELLA_SERVER=… BELLA_SERVER_FINGERPRINT=… bella run --ci -- CMD`,
    ].join('\n'),
  );
};

/** `bella ci trust list`. */
export const listTrusts: Action = async (cli) => {
  const res = await cli.call('listCiTrusts', {});
  cli.print(res, () =>
    res.trusts.length
      ? renderTable(
          [
            { header: 'NAME', keep: true },
            { header: 'ENVIRONMENT', keep: true },
            { header: 'SCOPE' },
            { header: 'TTL', keep: true },
            { header: 'ISSUER' },
            { header: 'AUDIENCE', drop: 1 },
            { header: 'CLAIMS' },
          ],
          res.trusts.map((t) => [
            t.name,
            `${t.project}/${t.environment}`,
            t.scope.join(',') + (t.db ? ` +db ${t.db}` : ''),
            formatDuration(t.ttlSeconds),
            t.issuer + (t.issuerCa ? ' (own CA)' : ''),
            t.audience,
            t.claims.map((c) => `${c.claim}=${c.pattern}`).join(' '),
          ]),
          { width: cli.width, colour: cli.colour },
        )
      : 'no CI trusts yet: add one with `bella ci trust add NAME -p P -e E --scope KEYS --github OWNER/REPO`',
  );
};

/** `bella ci trust remove NAME`. */
export const removeTrust: Action = async (cli, { args }) => {
  const res = await cli.call('removeCiTrust', { name: args.NAME as string });
  cli.print(res, () => `removed CI trust ${res.removed}: its jobs' JWTs buy nothing from now on`);
};

type LoginOpts = { idTokenFile?: string; idTokenEnv?: string; audience?: string; server?: string };

/** Largest answer read from the CI system's token endpoint. */
const MAX_ID_TOKEN_ANSWER = 64 * 1024;

/** GitHub Actions: the job's OIDC token for `audience`, from the runner's token endpoint. */
async function githubIdToken(url: string, bearer: string, audience: string): Promise<string> {
  // Loaded here only: TLS costs every other command its start-up time (docs/decisions.md, "CLI start-up").
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const fail = (why: string) =>
      reject(new BellaError('unavailable', `could not get the job's OIDC token from GitHub Actions: ${why}`));
    const target = new URL(url);
    target.searchParams.set('audience', audience);
    // The request token never travels without TLS.
    if (target.protocol !== 'https:') return fail('ACTIONS_ID_TOKEN_REQUEST_URL is not https://');
    const req = https.get(
      target,
      { headers: { authorization: `bearer ${bearer}`, accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ID_TOKEN_ANSWER) req.destroy(new Error('the answer is too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200)
            return fail(`HTTP ${res.statusCode} (does the workflow have permissions: id-token: write?)`);
          try {
            const value = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value?: unknown }).value;
            if (typeof value === 'string' && value) resolve(value);
            else fail('the answer has no token (value)');
          } catch {
            fail('the answer is not JSON');
          }
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (err) => fail(err.message));
  });
}

/** The job's JWT: --id-token-file, --id-token-env, else GitHub Actions' token endpoint. */
async function idToken(cli: CliSession, o: LoginOpts): Promise<string> {
  if (o.idTokenFile !== undefined && o.idTokenEnv !== undefined)
    throw new UsageError('give either --id-token-file or --id-token-env, not both');
  if (o.idTokenFile !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(path.resolve(cli.io.cwd, o.idTokenFile), 'utf8').trim();
    } catch (err) {
      throw new BellaError(
        'invalid_argument',
        `cannot read --id-token-file ${o.idTokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    if (!text) throw new UsageError(`--id-token-file ${o.idTokenFile} is empty: write the job's OIDC JWT in it`);
    return text;
  }
  if (o.idTokenEnv !== undefined) {
    const text = cli.io.env[o.idTokenEnv]?.trim();
    if (!text) throw new UsageError(`--id-token-env ${o.idTokenEnv}: that variable is empty or unset`);
    return text;
  }
  const url = cli.io.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = cli.io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    const audience = o.audience ?? (o.server ?? cli.io.env.BELLA_SERVER)?.split(',')[0]?.trim();
    if (!audience)
      throw new UsageError("give --audience (the trust's audience), or set BELLA_SERVER: it is the default");
    return githubIdToken(url, bearer, audience);
  }
  throw new UsageError(
    'no id token: pass --id-token-file FILE or --id-token-env VAR (GitLab: id_tokens), or run on GitHub Actions with permissions: id-token: write',
  );
}

/** Trades the job's JWT for a lease; used by `ci login` and `run --ci`. */
export async function ciLogin(cli: CliSession, opts: Record<string, unknown>) {
  const jwt = await idToken(cli, opts as LoginOpts);
  const plane = await connectTokenPlane(cli, opts);
  try {
    const trust = typeof opts.trust === 'string' ? opts.trust : undefined;
    return await plane.call('ciLogin', { idToken: jwt, trust }, { token: '' });
  } finally {
    plane.close();
  }
}

/** `bella ci login`: the `bax-` token alone on stdout; the lease and its expiry on stderr. */
export const login: Action = async (cli, { opts }) => {
  const res = await ciLogin(cli, opts);
  if (cli.json) {
    cli.out(JSON.stringify(res, null, 2));
    return;
  }
  cli.out(res.token);
  cli.note(
    `lease ${res.leaseId} for ${res.project}/${res.environment} (trust ${res.trust}), scope ${res.scope.join(',')}, expires ${formatWhen(res.expiresAt)}`,
  );
};

/** Where the job's OIDC JWT comes from (`ci login`, `run --ci`). */
export const idTokenOptions = [
  { long: 'id-token-file', value: 'file', description: "read the job's OIDC JWT from this file", complete: 'files' },
  {
    long: 'id-token-env',
    value: 'VAR',
    description: "read the job's OIDC JWT from this variable (GitLab: an id_tokens entry)",
  },
  {
    long: 'audience',
    value: 'aud',
    description: "GitHub Actions: the audience to ask the job's token for (default: BELLA_SERVER, its first server)",
  },
  { long: 'trust', value: 'name', description: 'only this trust (default: the first by name whose rules hold)' },
];

const nameArg = { name: 'NAME', description: 'the trust’s name', field: 'name' };

/** The `bella ci` command, as the parser, help, completion and docs/cli.md read it. */
export const ciCommand: CommandSpec = {
  name: 'ci',
  summary: "CI without a long-lived key: a job's OIDC identity buys a short lease",
  subcommands: [
    {
      name: 'trust',
      summary: 'which CI jobs (OIDC issuer, audience, claims) may buy which scope, for how long',
      subcommands: [
        {
          name: 'add',
          summary: 'trust the JWTs of an issuer whose claims match; nothing is sent anywhere',
          details:
            'Claims are *-globs (`*` matches any text, / included); every rule must hold. With several ' +
            'trusts of one issuer and audience, the first by name whose rules all hold is used. ' +
            '--github sets the issuer https://token.actions.githubusercontent.com and the claims ' +
            'repository and ref; --gitlab https://gitlab.com, project_path and ref.',
          args: [nameArg],
          options: [
            projectOption(),
            environmentOption(),
            scopeOption('keys or *-globs the leases cover', true),
            ttlOption("the leases' lifetime (default 15m; capped by the environment's policy)"),
            { long: 'issuer', value: 'url', description: 'the OIDC issuer (https://…), whose JWKS signs the JWTs' },
            { long: 'audience', value: 'aud', description: "the JWT's aud (default: the listener's URL)" },
            {
              long: 'claim',
              value: 'KEY=GLOB',
              description: 'a claim the JWT must carry, e.g. repository=acme/api (repeatable)',
              parse: listOption('--claim'),
              repeatable: true,
            },
            { long: 'github', value: 'OWNER/REPO[@REF]', description: 'GitHub Actions: this repository (and ref)' },
            { long: 'gitlab', value: 'GROUP/PROJECT[@REF]', description: 'GitLab.com: this project (and ref)' },
            {
              long: 'issuer-ca',
              value: 'file',
              description: "a self-hosted issuer's CA (PEM), instead of the system's",
              complete: 'files',
            },
            dbOption("each job's lease also gets a database login role of its own (DATABASE:ROLE)"),
          ],
          action: addTrust,
        },
        { name: 'list', summary: 'list the CI trusts', action: listTrusts },
        { name: 'remove', summary: 'remove a CI trust', args: [nameArg], action: removeTrust },
      ],
    },
    {
      name: 'login',
      summary: "trade the job's OIDC JWT for a lease: the bax- token on stdout",
      details:
        "On GitHub Actions (permissions: id-token: write) the job's token is fetched with the " +
        'audience --audience or BELLA_SERVER. Elsewhere pass it with --id-token-file or --id-token-env.',
      options: [...idTokenOptions, ...remoteOptions],
      action: login,
    },
  ],
};
