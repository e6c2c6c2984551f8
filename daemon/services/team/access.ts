import {
  BellaError,
  formatDuration,
  formatGrant,
  type Grant,
  type OperationArgs,
  type OperationName,
  type OperationOutput,
} from '../../api';
import { own, type State, type StoredMember } from '../../store';
import { DEFAULT_TTL_SECONDS } from '../lease-rules';

// What a teammate's device may do over the listener (issue 17, roles). The owner (the local
// socket) is never checked here. `admin`: everything but the team and the listener's settings.
// `member`: the projects and environments of her grants (names, policies, key names, never
// values), leases of her own where her grant is `issue`.

/** Operations only the owner may call: the team itself, the listener's settings, stopping the daemon. */
const OWNER_ONLY = new Set<OperationName>([
  'inviteTeamMember',
  'listTeam',
  'grantTeamMember',
  'ungrantTeamMember',
  'removeTeamMember',
  'enableListener',
  'disableListener',
  'rotateListenerCertificate',
  'shutdown',
  'reviewAccessRequest',
]);

/** Operations a member may call at all (each further limited below). */
const MEMBER_OPERATIONS = new Set<OperationName>([
  'whoami',
  'listProjects',
  'listEnvironments',
  'getLeasePolicy',
  'listSecrets',
  'issueLease',
  'listLeases',
  'getLease',
  'renewLease',
  'revokeLease',
  'createAccessRequest',
  'listAccessRequests',
  'getAccessRequest',
  'fetchRequestToken',
]);

type Filter<K extends OperationName> = (out: OperationOutput<K>) => OperationOutput<K>;

/**
 * Checks that `member` may call `name` with `args`; throws `permission_denied` saying why not.
 * Returns a filter for the answer when she may see only part of it.
 */
export function authorize<K extends OperationName>(
  state: State,
  member: StoredMember,
  name: K,
  args: OperationArgs<K>,
): Filter<K> | null {
  if (OWNER_ONLY.has(name)) throw denied(`${what(name)} is for the owner only, on the daemon's own machine`);
  if (member.role === 'admin') return null;
  if (!MEMBER_OPERATIONS.has(name)) {
    throw denied(`${what(name)} is not for members: ask an admin or the owner`);
  }
  const a = args as Record<string, unknown>;
  switch (name) {
    case 'listProjects':
      return ((out: OperationOutput<'listProjects'>) => ({
        projects: out.projects.filter((p) => member.grants.some((g) => g.project === p.slug)),
      })) as unknown as Filter<K>;
    case 'listEnvironments': {
      const project = String(a.project);
      if (!member.grants.some((g) => g.project === project)) throw noGrant(member, project);
      return ((out: OperationOutput<'listEnvironments'>) => ({
        environments: out.environments.filter((e) => grantOn(member, project, e.slug)),
      })) as unknown as Filter<K>;
    }
    case 'getLeasePolicy':
      needGrant(member, String(a.project), String(a.environment));
      return null;
    case 'listSecrets':
      needGrant(member, String(a.project), String(a.environment));
      // Defends the values: a member sees key names only, her leases read the values.
      if (a.reveal) throw denied('members see key names only: issue a lease to read values (bella issue)');
      return null;
    case 'issueLease': {
      const grant = needGrant(member, String(a.project), String(a.environment));
      if (grant.access !== 'issue') {
        throw denied(
          `your grant on ${grant.project}/${grant.environment} is request: leases there need the owner's approval`,
        );
      }
      // Without a policy a member's lease lasts at most the default ttl (with one, the policy caps it).
      const env = environmentOf(state, grant.project, grant.environment);
      const ttl = a.ttlSeconds as number | undefined;
      if (!env?.policy && ttl !== undefined && ttl > DEFAULT_TTL_SECONDS) {
        throw denied(
          `${grant.project}/${grant.environment} has no lease policy, so a member's lease lasts at most ${formatDuration(DEFAULT_TTL_SECONDS)}: ask for --ttl ${formatDuration(DEFAULT_TTL_SECONDS)} or less`,
        );
      }
      return null;
    }
    case 'createAccessRequest':
      // Either grant may ask (an `issue` grant may want an approval on record); break-glass too.
      needGrant(member, String(a.project), String(a.environment));
      return null;
    case 'getLease':
    case 'renewLease':
    case 'revokeLease': {
      const lease = state.leases.get(String(a.id));
      if (lease && lease.by !== member.id)
        throw denied(`lease ${lease.id} is not yours: members manage their own leases only`);
      // A break-glass lease lasts what the policy allowed it, no longer: renewing would outlive it.
      if (lease && name === 'renewLease' && brokeGlass(state, lease.id)) {
        throw denied(
          `lease ${lease.id} was taken by break-glass and cannot be renewed: ask for access (bella request)`,
        );
      }
      return null;
    }
    default:
      // whoami, listLeases, listAccessRequests, getAccessRequest, fetchRequestToken: the services
      // answer a member about her own leases and requests only.
      return null;
  }
}

/** Whether a break-glass request issued lease `id` (one scan of the requests; they are few). */
function brokeGlass(state: State, id: string): boolean {
  for (const r of state.accessRequests.values()) if (r.leaseId === id) return r.breakGlass;
  return false;
}

function environmentOf(state: State, project: string, environment: string) {
  const p = own(state.projects, project);
  return p ? own(p.environments, environment) : undefined;
}

function grantOn(member: StoredMember, project: string, environment: string): Grant | undefined {
  return member.grants.find((g) => g.project === project && g.environment === environment);
}

function needGrant(member: StoredMember, project: string, environment: string): Grant {
  const grant = grantOn(member, project, environment);
  if (!grant) throw noGrant(member, `${project}/${environment}`);
  return grant;
}

function noGrant(member: StoredMember, where: string): BellaError {
  return denied(
    `you have no grant on ${where}; your grants: ${member.grants.map(formatGrant).join(', ') || 'none'} (the owner adds one with bella team grant ${member.name} ${where.includes('/') ? where : `${where}/ENV`}:issue)`,
  );
}

function denied(message: string): BellaError {
  return new BellaError('permission_denied', message);
}

function what(name: OperationName): string {
  return name.replace(/([A-Z])/g, ' $1').toLowerCase();
}
