import { BellaError, formatInviteCode, type IssuedLease } from '../../api';
import { httpsOrigin } from '../../api/origin';
import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/**
 * The team (issue 17): invites, grants and removal are the owner's (the socket); whoami answers
 * any caller; joining is on the token plane, for a device presenting its client certificate.
 */
export function teamRoutes({ team }: Services, handover: () => Pick<IssuedLease, 'server' | 'fingerprint'>) {
  return {
    inviteTeamMember: async (args) => {
      // The code carries where to enrol: without a serving listener there is nowhere.
      const { server, fingerprint } = handover();
      if (!server || !fingerprint) {
        throw new BellaError(
          'conflict',
          'teammates enrol over the TLS listener, which is not serving: enable it first (bella listener enable)',
        );
      }
      const { servers: listed, ...invitation } = args;
      const servers = listed?.map(nodeOrigin) ?? [server];
      const { invite, secret } = await team.invite(invitation);
      // The nodes share the listener's certificate, so each is pinned to its fingerprint.
      const code = formatInviteCode({
        server: servers.join(','),
        fingerprint: servers.map(() => fingerprint).join(','),
        id: invite.id,
        secret,
      });
      return { invite, code };
    },
    listTeam: () => team.list(),
    grantTeamMember: (args) => team.grant(args),
    ungrantTeamMember: (args) => team.ungrant(args),
    removeTeamMember: (args) => team.remove(args),
    whoami: () => team.whoami(),
    joinTeam: async (args, req) => ({ whoami: await team.join(args, req.device ?? null, req.source) }),
  } satisfies Partial<Handlers>;
}

function nodeOrigin(text: string): string {
  const origin = httpsOrigin(text);
  if (!origin) {
    throw new BellaError(
      'invalid_argument',
      `--server ${text} is not https://HOST[:PORT]: list each node's listener URL (its --url), such as --server https://a.lan:7443,https://b.lan:7443`,
    );
  }
  return origin;
}
