import { FINGERPRINT_PATTERN } from './fingerprint';
import { httpsOrigin } from './origin';
import type { RouteSpec } from './routes';

// Teams (issue 17): people's devices enrolled by single-use invite codes, known by their P-256
// public keys, authenticated by mutual TLS on the listener. The routes sit here, spread into the
// contract by routes.ts; their input schemas are in team-inputs.ts.

/** What a person may do remotely: `admin` everything but team and listener settings; `member` her grants. */
export const TEAM_ROLES = ['admin', 'member'] as const;
/** One of {@link TEAM_ROLES}. */
export type TeamRole = (typeof TEAM_ROLES)[number];

/** What a grant allows in one environment: issue leases herself, or ask for them. */
export const GRANT_KINDS = ['issue', 'request'] as const;
/** One of {@link GRANT_KINDS}. */
export type GrantKind = (typeof GRANT_KINDS)[number];

/** A grant: `PROJECT/ENV:issue|request`. */
export interface Grant {
  project: string;
  environment: string;
  access: GrantKind;
}

/** An enrolled device of a person. */
export interface TeamDevice {
  /** `sha256:` + hex SHA-256 of the device key's SubjectPublicKeyInfo (DER). */
  fingerprint: string;
  enrolledAt: string;
  lastSeenAt: string | null;
}

/** A person of the team, as listed. */
export interface TeamMember {
  name: string;
  role: TeamRole;
  grants: Grant[];
  devices: TeamDevice[];
  createdAt: string;
}

/** An invite, as listed while it can be redeemed (never its secret). */
export interface TeamInvite {
  id: string;
  name: string;
  role: TeamRole;
  grants: Grant[];
  expiresAt: string;
}

/** What `team invite` answers: the code (shown once) and what it was made for. */
export interface TeamInviteCreated {
  invite: TeamInvite;
  /** `bella-invite-…`: the server URL, its fingerprint and the invite's secret. Shown once. */
  code: string;
}

/** Who the caller is to the server. */
export interface WhoAmI {
  /** `owner` on the local socket; the person's name over the listener. */
  name: string;
  role: 'owner' | TeamRole;
  grants: Grant[];
  /** The device's fingerprint; null for the owner. */
  device: string | null;
  /** The server answering (`https://…`), filled in by the client; null on the local socket. */
  server?: string | null;
}

/** What the server answers to a join: the new identity. */
export interface TeamJoined {
  whoami: WhoAmI;
}

/** A grant written as `PROJECT/ENV:issue|request`. */
export function formatGrant(g: Grant): string {
  return `${g.project}/${g.environment}:${g.access}`;
}

/** Reads `PROJECT/ENV:issue|request`; null when it is not one. */
export function parseGrant(text: string): Grant | null {
  const m = /^([a-z0-9][a-z0-9-]{0,62})\/([a-z0-9][a-z0-9-]{0,62}):(issue|request)$/.exec(text.trim());
  return m ? { project: m[1]!, environment: m[2]!, access: m[3] as GrantKind } : null;
}

/** What an invite code carries. */
export interface InviteCode {
  /** `https://HOST:PORT` of the owner's listener, or of every node sharing its store, comma-separated. */
  server: string;
  /** The listener certificate's fingerprint to pin, one per server, comma-separated. */
  fingerprint: string;
  id: string;
  /** The invite's secret (base64url, 32 bytes); the server keeps only its hash. */
  secret: string;
}

const CODE_PREFIX = 'bella-invite-';

/** Writes an invite code: `bella-invite-` + base64url of its JSON. */
export function formatInviteCode(code: InviteCode): string {
  const json = JSON.stringify({ s: code.server, f: code.fingerprint, i: code.id, k: code.secret });
  return CODE_PREFIX + base64url(new TextEncoder().encode(json));
}

/** Reads an invite code as pasted; null when it is not one. */
export function parseInviteCode(text: string): InviteCode | null {
  const t = text.trim();
  if (!t.startsWith(CODE_PREFIX) || t.length > 4096) return null;
  try {
    const raw = JSON.parse(new TextDecoder().decode(unbase64url(t.slice(CODE_PREFIX.length)))) as Record<
      string,
      unknown
    >;
    const { s, f, i, k } = raw;
    if (typeof s !== 'string' || typeof f !== 'string' || !isPinnedServerList(s, f)) return null;
    if (typeof i !== 'string' || !INVITE_ID.test(i)) return null;
    if (typeof k !== 'string' || !INVITE_SECRET.test(k)) return null;
    return { server: s, fingerprint: f, id: i, secret: k };
  } catch {
    return null;
  }
}

/**
 * Whether `server` lists 1–8 `https://HOST[:PORT]` and `fingerprint` one pin for each, both
 * comma-separated: the form of an invite code's server and of a member's team.json.
 */
export function isPinnedServerList(server: string, fingerprint: string): boolean {
  const servers = server.split(',');
  const pins = fingerprint.split(',');
  return (
    servers.length <= 8 &&
    pins.length === servers.length &&
    servers.every((s) => httpsOrigin(s) !== null) &&
    pins.every((f) => FINGERPRINT_PATTERN.test(f))
  );
}

/** Invite ids: `inv_` + 16 base64url characters. */
export const INVITE_ID = /^inv_[A-Za-z0-9_-]{16}$/;
/** Invite secrets: 43 base64url characters (256 bits). */
export const INVITE_SECRET = /^[A-Za-z0-9_-]{43}$/;

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unbase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function route<O>() {
  return <P extends 'admin' | 'token'>(spec: Omit<RouteSpec<O>, 'output' | 'plane'> & { plane: P }) =>
    spec as RouteSpec<O> & { plane: P };
}

/** The team routes of the contract. */
export const teamRoutes = {
  inviteTeamMember: route<TeamInviteCreated>()({
    method: 'POST',
    path: '/v1/team/invites',
    plane: 'admin',
    summary: 'Invite a person: a single-use, short-lived code for her device (owner only)',
  }),
  listTeam: route<{ members: TeamMember[]; invites: TeamInvite[] }>()({
    method: 'GET',
    path: '/v1/team',
    plane: 'admin',
    summary: 'People, roles, grants, devices and open invites (owner only)',
  }),
  grantTeamMember: route<{ member: TeamMember }>()({
    method: 'POST',
    path: '/v1/team/:name/grants',
    plane: 'admin',
    summary: 'Grant a person issue or request access to an environment (owner only)',
  }),
  ungrantTeamMember: route<{ member: TeamMember }>()({
    method: 'POST',
    path: '/v1/team/:name/ungrant',
    plane: 'admin',
    summary: "Take back a person's access to an environment (owner only)",
  }),
  removeTeamMember: route<{ removed: string; devices: number; revokedLeases: number }>()({
    method: 'DELETE',
    path: '/v1/team/:name',
    plane: 'admin',
    summary: 'Remove a person; her devices are refused from their next request (owner only)',
  }),
  whoami: route<WhoAmI>()({
    method: 'GET',
    path: '/v1/whoami',
    plane: 'admin',
    summary: 'Who the caller is to this server: name, role, grants, device',
  }),
  joinTeam: route<TeamJoined>()({
    method: 'POST',
    path: '/v1/team/join',
    plane: 'token',
    summary: 'Redeem an invite: enrols the device whose client certificate this connection presented',
  }),
} as const;
