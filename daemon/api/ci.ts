import type { RouteSpec } from './routes';

// CI trust (issue 18): an OIDC issuer + audience + claim rules -> scope and ttl. The routes sit
// here, spread into the contract by routes.ts; their input schemas are in operations.ts.

/** GitHub Actions' OIDC issuer, for `--github OWNER/REPO[@REF]`. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** GitLab.com's OIDC issuer, for `--gitlab GROUP/PROJECT[@REF]`. */
export const GITLAB_ISSUER = 'https://gitlab.com';

/** One claim rule: the JWT's claim `claim` (a string) must match the `*`-glob `pattern`. */
export interface ClaimRule {
  claim: string;
  pattern: string;
}

/** A CI trust, as listed. */
export interface CiTrust {
  name: string;
  project: string;
  environment: string;
  scope: string[];
  ttlSeconds: number;
  issuer: string;
  audience: string;
  claims: ClaimRule[];
  /** `--db DB:ROLE`: each lease also gets a database login role of its own (issue 19). */
  db?: string;
  /** Whether the issuer is checked against its own CA (`--issuer-ca`) instead of the system's. */
  issuerCa: boolean;
  createdAt: string;
}

/** What a CI login answers: the lease's token (shown once) and where it reads. */
export interface CiLogin {
  token: string;
  leaseId: string;
  project: string;
  environment: string;
  scope: string[];
  expiresAt: string;
  trust: string;
}

function route<O>() {
  return <P extends 'admin' | 'token'>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }) =>
    spec as RouteSpec<O> & { plane: P };
}

/** The CI trust routes of the contract. */
export const ciRoutes = {
  listCiTrusts: route<{ trusts: CiTrust[] }>()({
    method: 'GET',
    path: '/v1/ci/trusts',
    plane: 'admin',
    summary: 'List the CI trusts (OIDC issuer, audience, claim rules -> scope and ttl)',
  }),
  addCiTrust: route<{ trust: CiTrust; capped: { requestedSeconds: number; policySeconds: number } | null }>()({
    method: 'POST',
    path: '/v1/ci/trusts',
    plane: 'admin',
    summary: 'Trust the JWTs of a CI issuer whose claims match, for a scope and ttl',
  }),
  removeCiTrust: route<{ removed: string }>()({
    method: 'DELETE',
    path: '/v1/ci/trusts/:name',
    plane: 'admin',
    summary: 'Remove a CI trust',
  }),
  ciLogin: route<CiLogin>()({
    method: 'POST',
    path: '/v1/ci/login',
    plane: 'token',
    summary: "Trade a CI job's OIDC JWT for a short lease of a trust's scope",
  }),
} as const;
