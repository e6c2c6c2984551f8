import { BellaError } from '../../api/errors';
import { formatGrant, parseGrant, parseInviteCode, type Grant, type WhoAmI } from '../../api/team';
import { formatWhen } from '../format';
import { UsageError } from '../framework/errors';
import { durationOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';
import type { Action, CliSession } from '../session';
import { renderTable } from '../table';
import { makeDeviceKey, readMembership, writeDeviceKey, writeMembership } from '../../client/device';

/** `--grant PROJECT/ENV:issue|request`, repeatable. */
function grantOption(flag: string): (text: string) => Grant[] {
  return (text) => {
    const grant = parseGrant(text);
    if (!grant)
      throw new UsageError(
        `${flag} takes PROJECT/ENV:issue or PROJECT/ENV:request, e.g. my-api/production:issue, not '${text}'`,
      );
    return [grant];
  };
}

/** `bella team invite NAME`: the code on stdout, the line she runs on stderr. */
export const invite: Action = async (cli, { args, opts }) => {
  const o = opts as { role: 'admin' | 'member'; grant?: Grant[]; expires?: number; server?: string };
  const res = await cli.call('inviteTeamMember', {
    name: args.NAME as string,
    role: o.role,
    grants: o.grant ?? [],
    expiresSeconds: o.expires,
    ...(o.server !== undefined ? { servers: o.server.split(',') } : {}),
  });
  if (cli.json) {
    cli.print(res, () => '');
    return;
  }
  cli.out(res.code);
  const i = res.invite;
  cli.note(
    [
      `invited ${cli.safe(i.name)} as ${i.role}${i.grants.length ? ` (${i.grants.map(formatGrant).join(', ')})` : ''}; the code works once, until ${formatWhen(i.expiresAt)}`,
      `on her machine: bella team join ${res.code}`,
    ].join('\n'),
  );
};

/** `bella team join CODE`: makes the device key here and enrols it with the team's server. */
export const join: Action = async (cli, { args }) => {
  const code = parseInviteCode(args.CODE as string);
  if (!code) throw new UsageError('that is not an invite code: copy the whole bella-invite-… line the owner sent');
  const dir = cli.connector.configDir;
  const existing = readMembership(dir);
  if (existing) {
    throw new BellaError(
      'conflict',
      `this machine already joined ${existing.server} as ${existing.name}: remove ${dir}/team.json first to join another team`,
    );
  }
  const key = await makeDeviceKey('bella device');
  // The key is on disk before it is enrolled: an enrolled key is never lost to a crash.
  writeDeviceKey(dir, key);
  const server = await cli.connector.remote({
    server: code.server,
    fingerprint: code.fingerprint,
    device: { certPem: key.certPem, keyPem: key.keyPem },
    pinSource: { name: "the invite code's fingerprint", remedy: 'ask the owner for a new invite code' },
  });
  const res = await server.call('joinTeam', { id: code.id, secret: code.secret });
  server.close();
  writeMembership(dir, {
    server: code.server,
    serverFingerprint: code.fingerprint,
    name: res.whoami.name,
    fingerprint: key.fingerprint,
  });
  const whoami = { ...res.whoami, server: code.server };
  cli.print({ whoami }, () =>
    [
      `joined ${code.server} as ${cli.safe(whoami.name)} (${whoami.role}); this device is ${key.fingerprint}`,
      `its key is in ${dir} (0600); plain bella commands now reach that server`,
    ].join('\n'),
  );
};

/** `bella whoami`. */
export const whoami: Action = async (cli) => {
  const res = await cli.call('whoami', {});
  const who: WhoAmI = { ...res, server: cli.connector.membership()?.server ?? null };
  cli.print(who, () => describe(cli, who));
};

function describe(cli: CliSession, w: WhoAmI): string {
  if (w.role === 'owner') return 'owner (the local socket): everything';
  return [
    `${cli.safe(w.name)} (${w.role})${w.server ? ` at ${w.server}` : ''}`,
    `device: ${w.device}`,
    `grants: ${w.role === 'admin' ? 'every environment (admin)' : w.grants.map(formatGrant).join(', ') || 'none'}`,
  ].join('\n');
}

/** `bella team list`. */
export const list: Action = async (cli) => {
  const res = await cli.call('listTeam', {});
  cli.print(res, () => {
    const lines: string[] = [];
    if (!res.members.length && !res.invites.length)
      return 'no one in the team yet: invite someone with bella team invite NAME --role member --grant P/E:issue';
    if (res.members.length) {
      lines.push(
        renderTable(
          [
            { header: 'NAME', keep: true },
            { header: 'ROLE', keep: true },
            { header: 'GRANTS' },
            { header: 'DEVICES' },
            { header: 'LAST SEEN', keep: true },
          ],
          res.members.map((m) => {
            const seen = m.devices
              .map((d) => d.lastSeenAt)
              .filter((t): t is string => t !== null)
              .sort()
              .at(-1);
            return [
              cli.safe(m.name),
              m.role,
              m.grants.map(formatGrant).join(', ') || (m.role === 'admin' ? '(all)' : '-'),
              m.devices.map((d) => d.fingerprint).join(' ') || '-',
              seen ? formatWhen(seen) : 'never',
            ];
          }),
          { width: cli.width, colour: cli.colour },
        ),
      );
    }
    for (const i of res.invites)
      lines.push(`invite for ${cli.safe(i.name)} (${i.role}) open until ${formatWhen(i.expiresAt)}`);
    return lines.join('\n');
  });
};

function grantArg(text: string, flag: string): Grant {
  const grant = parseGrant(text);
  if (!grant)
    throw new UsageError(
      `${flag} takes PROJECT/ENV:issue or PROJECT/ENV:request, e.g. my-api/production:issue, not '${text}'`,
    );
  return grant;
}

/** `bella team grant NAME P/E:issue|request`. */
export const grant: Action = async (cli, { args }) => {
  const g = grantArg(args.GRANT as string, 'GRANT');
  const res = await cli.call('grantTeamMember', { name: args.NAME as string, ...g });
  cli.print(res, () => `${cli.safe(res.member.name)} now has ${res.member.grants.map(formatGrant).join(', ')}`);
};

/** `bella team ungrant NAME P/E`. */
export const ungrant: Action = async (cli, { args }) => {
  const m = /^([^/:\s]+)\/([^/:\s]+)(:(issue|request))?$/.exec((args.ENVIRONMENT as string).trim());
  if (!m)
    throw new UsageError(`ENVIRONMENT is PROJECT/ENV, e.g. my-api/production, not '${args.ENVIRONMENT as string}'`);
  const res = await cli.call('ungrantTeamMember', { name: args.NAME as string, project: m[1]!, environment: m[2]! });
  cli.print(
    res,
    () => `${cli.safe(res.member.name)} now has ${res.member.grants.map(formatGrant).join(', ') || 'no grants'}`,
  );
};

/** `bella team remove NAME [--revoke-leases]`. */
export const remove: Action = async (cli, { args, opts }) => {
  const o = opts as { revokeLeases?: boolean };
  const res = await cli.call('removeTeamMember', { name: args.NAME as string, revokeLeases: o.revokeLeases === true });
  cli.print(
    res,
    () =>
      `removed ${cli.safe(res.removed)}: ${res.devices} device(s) refused from their next request` +
      (o.revokeLeases
        ? `; ${res.revokedLeases} lease(s) revoked`
        : '; her leases run until they expire (--revoke-leases ends them)'),
  );
};

const nameArg = { name: 'NAME', description: "the person's name", field: 'name' };

export const teamCommand: CommandSpec = {
  name: 'team',
  summary: "teammates' devices: invite, join, grants, removal",
  subcommands: [
    {
      name: 'invite',
      summary: 'a single-use invite code for a teammate (owner only); the code on stdout',
      details:
        'The code carries the listener’s URL and fingerprint and a random secret (only its hash is kept). ' +
        'She runs `bella team join CODE` on her machine; the listener must be enabled.',
      args: [nameArg],
      options: [
        { long: 'role', value: 'role', description: 'admin or member', choices: ['admin', 'member'], required: true },
        {
          long: 'grant',
          value: 'P/E:issue|request',
          description: 'an environment she may issue leases in, or request them (repeatable)',
          parse: grantOption('--grant'),
          repeatable: true,
        },
        {
          long: 'expires',
          value: 'duration',
          description: 'how long the code can be redeemed (default 24h, at most 7d)',
          parse: durationOption('--expires'),
        },
        {
          long: 'server',
          value: 'URL[,URL…]',
          description:
            "every node's listener URL when two bella nodes share PostgreSQL (their --url); her device tries them in order (default: this listener's URL)",
        },
      ],
      action: invite,
    },
    {
      name: 'join',
      summary: "enrol this device with a team's server: makes its key here (no daemon needed)",
      args: [{ name: 'CODE', description: 'the bella-invite-… code the owner sent' }],
      action: join,
    },
    { name: 'list', summary: 'people, roles, grants, devices, last seen (owner only)', action: list },
    {
      name: 'grant',
      summary: 'let a person issue (or request) leases in an environment (owner only)',
      args: [nameArg, { name: 'GRANT', description: 'PROJECT/ENV:issue or PROJECT/ENV:request' }],
      action: grant,
    },
    {
      name: 'ungrant',
      summary: "take back a person's access to an environment (owner only)",
      args: [nameArg, { name: 'ENVIRONMENT', description: 'PROJECT/ENV' }],
      action: ungrant,
    },
    {
      name: 'remove',
      summary: 'remove a person: her devices are refused from their next request (owner only)',
      args: [nameArg],
      options: [{ long: 'revoke-leases', description: 'also revoke her active leases now' }],
      action: remove,
    },
  ],
};

export const whoamiCommand: CommandSpec = {
  name: 'whoami',
  summary: 'who this machine is to its bella: owner, or a teammate’s name, role, grants and device',
  action: whoami,
};
