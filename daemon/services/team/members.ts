import { createHash } from 'node:crypto';
import {
  BellaError,
  formatDuration,
  formatGrant,
  type Grant,
  type OperationArgs,
  type OperationOutput,
  type TeamInvite,
  type TeamMember,
  type WhoAmI,
} from '../../api';
import { iso } from '../../base/common/time';
import { hashesEqual, randomId, tokenSecret, type State, type StoredInvite, type StoredMember } from '../../store';
import { effectiveStatus } from '../../base/common/lease-status';
import type { LeaseLifecycle } from '../lease-lifecycle';
import { findEnvironment } from '../lookup';
import type { ServiceContext } from '../service-context';
import { acting, actorName, caller, type Caller } from './caller';

/** An invite lives 24 h unless `--expires` says otherwise. */
export const DEFAULT_INVITE_SECONDS = 24 * 3600;
/** A device's last-seen time is written at most this often (each write is a commit). */
const LAST_SEEN_EVERY_MS = 60_000;

/** Where teammates reach the listener, for the invite code. */
export interface InviteTarget {
  server: string;
  fingerprint: string;
}

/** The team: invites, enrolment of devices, grants, removal, and who a device is. */
export class TeamService {
  /** When each removed device was last audited as refused (at most one entry a minute each). */
  private readonly refused = new Map<string, number>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly lifecycle: LeaseLifecycle,
  ) {}

  /**
   * Audits a removed device's request, refused: `DeviceRefused` under her name, at most once a
   * minute per device, so a device that keeps trying cannot flood the trail.
   */
  async refuseRemoved(fingerprint: string, source: string, method: string): Promise<void> {
    const now = this.ctx.clock();
    const last = this.refused.get(fingerprint);
    if (last !== undefined && now - last < LAST_SEEN_EVERY_MS) return;
    // Only enrolled (then removed) devices get here, so the map is bounded by the devices ever enrolled.
    this.refused.set(fingerprint, now);
    const state = this.ctx.store.state;
    const device = state.devices.get(fingerprint);
    const member = device && state.members.get(device.memberId);
    if (!device || !member) return;
    await this.ctx.store.record([
      {
        event: 'DeviceRefused',
        outcome: 'Denied',
        actor: actorName(member, device),
        source,
        message: `removed device refused (${method} on the admin plane)`,
      },
    ]);
  }

  /** A single-use invite for `name`; only a hash of its secret is kept. Answers the secret once. */
  async invite(args: OperationArgs<'inviteTeamMember'>): Promise<{ invite: TeamInvite; secret: string }> {
    const secret = tokenSecret();
    return this.ctx.store.transact((state, touched) => {
      if (activeMember(state, args.name)) {
        throw new BellaError(
          'conflict',
          `${args.name} is already in the team: grant her more with bella team grant, or remove her first (bella team remove ${args.name})`,
        );
      }
      const grants = uniqueGrants(state, args.grants);
      const now = this.ctx.clock();
      // Expired invites leave the state as new ones are made, so it stays proportional.
      for (const old of state.invites.values()) {
        if (old.expiresAt <= now || old.name === args.name) {
          state.invites.delete(old.id);
          touched.record('invite', old.id);
        }
      }
      const ttl = args.expiresSeconds ?? DEFAULT_INVITE_SECONDS;
      const invite: StoredInvite = {
        id: `inv_${randomId(16)}`,
        name: args.name,
        role: args.role,
        grants,
        // Defends the code against a copy of the state: only its hash is kept.
        secretHash: sha256(secret),
        createdAt: now,
        expiresAt: now + ttl * 1000,
      };
      state.invites.set(invite.id, invite);
      touched.record('invite', invite.id);
      return {
        result: { invite: toInvite(invite), secret },
        audit: [
          {
            event: 'TeamInvited',
            outcome: 'Success',
            actor: acting(),
            message: `invited ${invite.name} as ${invite.role}${grants.length ? ` with ${grants.map(formatGrant).join(', ')}` : ''}; the code expires in ${formatDuration(ttl)}`,
          },
        ],
      };
    });
  }

  /**
   * Redeems an invite for the device whose public key has fingerprint `device` (the client
   * certificate of the connection, its signature already checked). The invite is used up.
   */
  async join(args: OperationArgs<'joinTeam'>, device: string | null, source: string): Promise<WhoAmI> {
    const refused = async (why: string) => {
      await this.ctx.store.record([
        { event: 'TeamJoined', outcome: 'Denied', actor: 'token', source, message: `invite ${args.id}: ${why}` },
      ]);
      return new BellaError(
        'unauthenticated',
        `the invite code was refused (${why}): ask the owner for a new one (bella team invite NAME)`,
      );
    };
    if (!device) throw await refused('no client certificate was presented');
    const invite = this.ctx.store.state.invites.get(args.id);
    // Defends against guessing: the secret's hash is compared in constant time; unknown, used and
    // expired codes read alike to the caller (the audit keeps which).
    if (!invite || !hashesEqual(invite.secretHash, sha256(args.secret))) throw await refused('unknown or already used');
    if (invite.expiresAt <= this.ctx.clock()) throw await refused('expired');
    if (this.ctx.store.state.devices.has(device)) throw await refused('this device is already enrolled');
    return this.ctx.store.transact((state, touched) => {
      // Re-checked inside the transaction: two joins racing with one code, only one wins.
      if (state.invites.get(invite.id) !== invite || activeMember(state, invite.name))
        throw new BellaError(
          'unauthenticated',
          'the invite code was refused (already used): ask the owner for a new one',
        );
      const now = this.ctx.clock();
      const member: StoredMember = {
        id: `mem_${randomId(16)}`,
        name: invite.name,
        role: invite.role,
        grants: invite.grants,
        createdAt: now,
        removedAt: null,
      };
      const dev = { id: device, memberId: member.id, enrolledAt: now, lastSeenAt: now, removedAt: null };
      state.invites.delete(invite.id);
      state.members.set(member.id, member);
      state.devices.set(dev.id, dev);
      touched.record('invite', invite.id).record('member', member.id).record('device', dev.id);
      return {
        result: whoami({ kind: 'member', member, device: dev }),
        audit: [
          {
            event: 'TeamJoined',
            outcome: 'Success',
            actor: actorName(member, dev),
            source,
            message: `${member.name} joined as ${member.role} with device ${dev.id}`,
          },
        ],
      };
    });
  }

  /** People (not removed) with their devices, and the invites that can still be redeemed. */
  list(): OperationOutput<'listTeam'> {
    const state = this.ctx.store.state;
    const now = this.ctx.clock();
    return {
      members: [...state.members.values()].filter((m) => m.removedAt === null).map((m) => toMember(state, m)),
      invites: [...state.invites.values()].filter((i) => i.expiresAt > now).map(toInvite),
    };
  }

  async grant(args: OperationArgs<'grantTeamMember'>): Promise<OperationOutput<'grantTeamMember'>> {
    return this.changeMember(args.name, (state, member) => {
      const [grant] = uniqueGrants(state, [args]);
      member.grants = [...member.grants.filter((g) => !sameEnv(g, grant!)), grant!];
      return `granted ${member.name} ${formatGrant(grant!)}`;
    });
  }

  async ungrant(args: OperationArgs<'ungrantTeamMember'>): Promise<OperationOutput<'ungrantTeamMember'>> {
    return this.changeMember(args.name, (_state, member) => {
      const kept = member.grants.filter((g) => !sameEnv(g, args));
      if (kept.length === member.grants.length) {
        throw new BellaError(
          'not_found',
          `${member.name} has no grant on ${args.project}/${args.environment}; her grants: ${member.grants.map(formatGrant).join(', ') || 'none'}`,
        );
      }
      member.grants = kept;
      return `took back ${member.name}'s access to ${args.project}/${args.environment}`;
    });
  }

  /** Removes a person: her devices are refused from their next request; her leases too if asked. */
  async remove(args: OperationArgs<'removeTeamMember'>): Promise<OperationOutput<'removeTeamMember'>> {
    return this.lifecycle.transact((state, changes, touched) => {
      const member = findMember(state, args.name);
      const now = changes.now;
      member.removedAt = now;
      touched.record('member', member.id);
      let devices = 0;
      for (const device of state.devices.values()) {
        if (device.memberId !== member.id || device.removedAt !== null) continue;
        device.removedAt = now;
        touched.record('device', device.id);
        devices++;
      }
      let revokedLeases = 0;
      if (args.revokeLeases) {
        for (const lease of state.leases.rows()) {
          if (lease.by !== member.id || effectiveStatus(lease, now) !== 'active') continue;
          changes.end(lease.lease(), 'revoked', `${member.name} removed from the team`, acting());
          revokedLeases++;
        }
      }
      return {
        result: { removed: member.name, devices, revokedLeases },
        audit: [
          {
            event: 'TeamChanged',
            outcome: 'Success',
            actor: acting(),
            message: `removed ${member.name} (${devices} devices${args.revokeLeases ? `, ${revokedLeases} leases revoked` : ''})`,
          },
        ],
      };
    }, 'release');
  }

  /** Who the caller of this request is. */
  whoami(): WhoAmI {
    return whoami(caller());
  }

  /**
   * The caller a device fingerprint stands for: a member, `removed` (known but no longer
   * enrolled), or null (never enrolled). Notes when the device was last seen.
   */
  identify(fingerprint: string): Caller | 'removed' | null {
    const state = this.ctx.store.state;
    const device = state.devices.get(fingerprint);
    if (!device) return null;
    const member = state.members.get(device.memberId);
    if (!member || device.removedAt !== null || member.removedAt !== null) return 'removed';
    const now = this.ctx.clock();
    if (device.lastSeenAt === null || now - device.lastSeenAt >= LAST_SEEN_EVERY_MS) {
      // A lost last-seen time costs nothing but precision: its write is not waited for.
      void this.ctx.store
        .transact((s, touched) => {
          const d = s.devices.get(device.id);
          if (d) {
            d.lastSeenAt = Math.max(d.lastSeenAt ?? 0, now);
            touched.record('device', d.id);
          }
          return { result: null, audit: [] };
        }, 'read')
        .catch(() => undefined);
    }
    return { kind: 'member', member, device };
  }

  private async changeMember(
    name: string,
    change: (state: State, member: StoredMember) => string,
  ): Promise<{ member: TeamMember }> {
    return this.ctx.store.transact((state, touched) => {
      const member = findMember(state, name);
      const message = change(state, member);
      touched.record('member', member.id);
      return {
        result: { member: toMember(state, member) },
        audit: [{ event: 'TeamChanged', outcome: 'Success', actor: acting(), message }],
      };
    });
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameEnv(a: { project: string; environment: string }, b: { project: string; environment: string }): boolean {
  return a.project === b.project && a.environment === b.environment;
}

/** The grants, each of an environment that exists, the last one per environment kept. */
function uniqueGrants(state: State, grants: readonly Grant[]): Grant[] {
  const out: Grant[] = [];
  for (const g of grants) {
    findEnvironment(state, g.project, g.environment);
    const at = out.findIndex((o) => sameEnv(o, g));
    const grant = { project: g.project, environment: g.environment, access: g.access };
    if (at >= 0) out[at] = grant;
    else out.push(grant);
  }
  return out;
}

function activeMember(state: State, name: string): StoredMember | undefined {
  for (const m of state.members.values()) if (m.name === name && m.removedAt === null) return m;
  return undefined;
}

function findMember(state: State, name: string): StoredMember {
  const member = activeMember(state, name);
  if (member) return member;
  const names = [...state.members.values()].filter((m) => m.removedAt === null).map((m) => m.name);
  throw new BellaError(
    'not_found',
    `no one named ${name} in the team; ${names.length ? `its people: ${names.join(', ')}` : 'invite someone first (bella team invite NAME --role member)'}`,
  );
}

function toInvite(i: StoredInvite): TeamInvite {
  return { id: i.id, name: i.name, role: i.role, grants: i.grants, expiresAt: iso(i.expiresAt) };
}

function toMember(state: State, m: StoredMember): TeamMember {
  const devices = [...state.devices.values()]
    .filter((d) => d.memberId === m.id && d.removedAt === null)
    .map((d) => ({
      fingerprint: d.id,
      enrolledAt: iso(d.enrolledAt),
      lastSeenAt: d.lastSeenAt === null ? null : iso(d.lastSeenAt),
    }));
  return { name: m.name, role: m.role, grants: m.grants, devices, createdAt: iso(m.createdAt) };
}

function whoami(c: Caller): WhoAmI {
  if (c.kind === 'owner') return { name: 'owner', role: 'owner', grants: [], device: null };
  return { name: c.member.name, role: c.member.role, grants: c.member.grants, device: c.device.id };
}
