import * as z from 'zod';
import { Flag, once, Seconds, Slug } from './schemas';
import { GRANT_KINDS, INVITE_ID, INVITE_SECRET, TEAM_ROLES } from './team';

/** A person's name: what `team grant`, the audit's actor and `--actor` use. */
export const MemberName = once(() =>
  z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'names are 1–63 lowercase letters, digits, dots, dashes or underscores'),
);

const GrantInput = () => z.object({ project: Slug(), environment: Slug(), access: z.enum(GRANT_KINDS) });

/** The input schemas of the team operations (operations.ts), each built at its first use. */
export const teamInputs = {
  inviteTeamMember: () =>
    z.object({
      name: MemberName(),
      role: z.enum(TEAM_ROLES),
      grants: z.array(GrantInput()).max(200).default([]),
      /** How long the code can be redeemed; 24 h by default, at most 7 days. */
      expiresSeconds: Seconds()
        .refine((s) => s <= 7 * 86_400, 'an invite lives at most 7d')
        .optional(),
      /**
       * Every node's listener URL, for nodes sharing one PostgreSQL (and one listener certificate):
       * her device tries them in order. The listener's own URL when absent.
       */
      servers: z.array(z.string().max(2048)).min(1).max(8).optional(),
    }),
  listTeam: () => z.object({}),
  grantTeamMember: () => GrantInput().extend({ name: MemberName() }),
  ungrantTeamMember: () => z.object({ name: MemberName(), project: Slug(), environment: Slug() }),
  removeTeamMember: () => z.object({ name: MemberName(), revokeLeases: Flag().optional() }),
  whoami: () => z.object({}),
  joinTeam: () =>
    z.object({
      id: z.string().regex(INVITE_ID, 'not an invite id'),
      secret: z.string().regex(INVITE_SECRET, 'not an invite secret'),
    }),
};
