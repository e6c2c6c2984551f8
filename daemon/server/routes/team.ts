import { BellaError, formatInviteCode, type IssuedLease } from '../../api';
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
      const { invite, secret } = await team.invite(args);
      return { invite, code: formatInviteCode({ server, fingerprint, id: invite.id, secret }) };
    },
    listTeam: () => team.list(),
    grantTeamMember: (args) => team.grant(args),
    ungrantTeamMember: (args) => team.ungrant(args),
    removeTeamMember: (args) => team.remove(args),
    whoami: () => team.whoami(),
    joinTeam: async (args, req) => ({ whoami: await team.join(args, req.device ?? null, req.source) }),
  } satisfies Partial<Handlers>;
}
