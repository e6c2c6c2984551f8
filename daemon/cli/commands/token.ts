import { formatPairs, formatWhen } from '../format';
import { requireToken, connectTokenPlane } from '../token-plane';
import type { Action } from '../session';
import { endedMessage } from './leases';
import { remoteOptions, tokenFileOption, tokenOption } from './shared-options';
import type { CommandSpec } from '../framework/spec';

/** `bella token lookup`: the holder's own lease. */
export const lookup: Action = async (cli, { opts }) => {
  const token = await requireToken(cli, opts);
  const plane = await connectTokenPlane(cli, opts);
  const { lease } = await plane.call('lookupToken', {}, { token });
  cli.print({ lease }, () =>
    formatPairs([
      ['lease', lease.id],
      ['environment', `${lease.project}/${lease.environment}`],
      ['scope', lease.scope.join(', ')],
      ['status', lease.status],
      ['issued', formatWhen(lease.issuedAt)],
      ['expires', formatWhen(lease.expiresAt)],
      ['uses', String(lease.uses)],
      ['last used', lease.lastUsedAt ? formatWhen(lease.lastUsedAt) : 'never'],
    ]),
  );
};

/** `bella token revoke`: the holder ends its own lease. */
export const revoke: Action = async (cli, { opts }) => {
  const o = opts as { token?: string; reason?: string };
  const token = await requireToken(cli, opts);
  const plane = await connectTokenPlane(cli, opts);
  const res = await plane.call('revokeToken', { reason: o.reason }, { token });
  cli.print(res, () =>
    res.alreadyEnded
      ? endedMessage(res.lease)
      : `revoked lease ${res.lease.id} (${res.lease.project}/${res.lease.environment}): this token is refused from now on`,
  );
};

/** The `bella token` command, as the parser, help, completion and docs/cli.md read it. */
export const tokenCommand: CommandSpec = {
  name: 'token',
  summary: "the holder's own lease, with its token (over the local socket or BELLA_SERVER; never starts a daemon)",
  subcommands: [
    {
      name: 'lookup',
      summary: 'show the lease of a token: scope, expiry, uses',
      options: [
        { ...tokenOption, description: 'the token (default: BELLA_TOKEN; - reads stdin)' },
        tokenFileOption,
        ...remoteOptions,
      ],
      action: lookup,
    },
    {
      name: 'revoke',
      summary: 'end the lease of a token at once (e.g. at the end of a CI job)',
      options: [
        { ...tokenOption, description: 'the token (default: BELLA_TOKEN; - reads stdin)' },
        tokenFileOption,
        ...remoteOptions,
        { long: 'reason', value: 'text', description: 'why (kept in the audit trail)' },
      ],
      action: revoke,
    },
  ],
};
