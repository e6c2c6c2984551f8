import type { LeasePolicy } from '../../api/types';
import { UsageError } from '../framework/errors';
import { plural } from '../../base/common/plural';
import { formatTime, formatTtl } from '../format';
import { renderTable } from '../table';
import type { Action } from '../session';
import { environmentOption, projectOption, ttlOption, wideOption } from './shared-options';
import { durationOption } from '../framework/options';
import type { CommandSpec } from '../framework/spec';

/** `ttl 24h, warn 2h before expiry`, or `none`. */
export function describePolicy(policy: LeasePolicy | null): string {
  if (!policy) return 'none';
  const glass = policy.breakGlassSeconds ? `, break-glass up to ${formatTtl(policy.breakGlassSeconds)}` : '';
  return `ttl ${formatTtl(policy.ttlSeconds)}, warn ${formatTtl(policy.warnBeforeSeconds)} before expiry${glass}`;
}

type Opts = {
  project?: string;
  environment?: string;
  name?: string;
  slug?: string;
  force?: boolean;
  ttl?: number;
  warnBefore?: number;
  wide?: boolean;
};

/** `bella environments create`. */
export const create: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const project = cli.projectRef(o);
  const res = await cli.call('createEnvironment', { project, name: o.name as string, slug: o.slug as string });
  const e = res.environment;
  cli.print(res, () => `created environment ${e.project}/${e.slug} (${cli.safe(e.name)})`);
};

/** `bella environments list`. */
export const list: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const project = cli.projectRef(o);
  const res = await cli.call('listEnvironments', { project });
  cli.print(res, () =>
    res.environments.length === 0
      ? `no environments in ${project} yet: create one with \`bella environments create --project ${project} --name NAME --slug SLUG\``
      : renderTable(
          [
            { header: 'SLUG', keep: true },
            { header: 'NAME' },
            { header: 'SECRETS', keep: true },
            { header: 'ACTIVE LEASES', keep: true },
            { header: 'LEASE POLICY' },
            { header: 'CREATED', keep: true },
          ],
          res.environments.map((e) => [
            e.slug,
            e.name,
            String(e.secretCount),
            String(e.activeLeases),
            describePolicy(e.policy),
            formatTime(e.createdAt),
          ]),
          { width: o.wide ? Infinity : cli.width, colour: cli.colour },
        ),
  );
};

/** `bella environments delete PROJECT/ENVIRONMENT`: named explicitly, never from .bella. */
export const remove: Action = async (cli, { args, opts }) => {
  const o = opts as Opts;
  const ref = (args.REF as string[] | undefined) ?? [];
  const parts = ref.length === 1 ? (ref[0] ?? '').split('/') : ref;
  if (parts.length > 2) throw new UsageError('name the environment as PROJECT ENVIRONMENT or PROJECT/ENVIRONMENT');
  const project = o.project ?? (parts.length === 2 ? parts[0] : undefined);
  const environment = o.environment ?? (parts.length === 2 ? parts[1] : parts[0]);
  if (!project || !environment) {
    throw new UsageError('name the environment: --project P --environment E (or PROJECT/ENVIRONMENT)');
  }
  const res = await cli.call('deleteEnvironment', { project, environment, force: o.force === true });
  cli.print(
    res,
    () => `deleted environment ${res.deleted} (${res.secrets} secrets, ${res.revokedLeases} leases revoked)`,
  );
};

/** `bella environments set-lease-policy`. */
export const setPolicy: Action = async (cli, { opts }) => {
  const o = opts as Opts & { ttl: number; warnBefore: number; breakGlassTtl?: number };
  // warn-before < ttl is the daemon's rule, checked there once; its error names --warn-before.
  const ref = cli.environmentRef(o);
  const res = await cli.call('setLeasePolicy', {
    project: ref.project,
    environment: ref.environment,
    ttlSeconds: o.ttl,
    warnBeforeSeconds: o.warnBefore,
    breakGlassSeconds: o.breakGlassTtl,
  });
  cli.print(res, () => {
    const lines = [`lease policy of ${ref.project}/${ref.environment}: ${describePolicy(res.policy)}`];
    if (res.cappedLeases > 0) {
      lines.push(`${plural(res.cappedLeases, 'active lease')} now expire within ${formatTtl(res.policy.ttlSeconds)}`);
    }
    return lines.join('\n');
  });
};

/** `bella environments get-lease-policy`. */
export const getPolicy: Action = async (cli, { opts }) => {
  const ref = cli.environmentRef(opts as Opts);
  const res = await cli.call('getLeasePolicy', { project: ref.project, environment: ref.environment });
  cli.print(res, () => `lease policy of ${ref.project}/${ref.environment}: ${describePolicy(res.policy)}`);
};

/** `bella environments clear-lease-policy`. */
export const clearPolicy: Action = async (cli, { opts }) => {
  const ref = cli.environmentRef(opts as Opts);
  const res = await cli.call('clearLeasePolicy', { project: ref.project, environment: ref.environment });
  cli.print(res, () =>
    res.cleared
      ? `lease policy of ${ref.project}/${ref.environment} removed`
      : `${ref.project}/${ref.environment} had no lease policy`,
  );
};

/** The `bella environments` command, as the parser, help, completion and docs/cli.md read it. */
export const environmentsCommand: CommandSpec = {
  name: 'environments',
  aliases: ['envs'],
  summary: 'create, list and delete environments, and manage their lease policy',
  subcommands: [
    {
      name: 'create',
      summary: 'create an environment in a project',
      options: [
        projectOption(),
        { long: 'name', value: 'name', description: 'display name, e.g. Production', required: true },
        { long: 'slug', value: 'slug', description: 'short id, e.g. production', required: true },
      ],
      examples: ['bella environments create --project my-api --name Production --slug production'],
      action: create,
    },
    {
      name: 'list',
      summary: 'list the environments of a project',
      options: [projectOption(), wideOption],
      action: list,
    },
    {
      name: 'delete',
      summary: 'delete an environment (one that holds secrets needs --force)',
      details: 'Name it explicitly: .bella is not used for deleting.',
      args: [
        {
          name: 'REF',
          description: 'PROJECT ENVIRONMENT or PROJECT/ENVIRONMENT (instead of the options)',
          optional: true,
          variadic: true,
        },
      ],
      options: [
        projectOption('the project'),
        environmentOption('the environment'),
        { long: 'force', description: 'also delete its secrets and revoke its leases' },
      ],
      action: remove,
    },
    {
      name: 'set-lease-policy',
      summary: 'make every lease of an environment expire within --ttl, warning --warn-before expiry',
      options: [
        projectOption(),
        environmentOption(),
        { ...ttlOption('longest lease, e.g. 24h'), required: true },
        {
          long: 'warn-before',
          value: 'duration',
          description: 'warn this long before expiry, e.g. 2h (shorter than --ttl)',
          parse: durationOption('--warn-before'),
          field: 'warnBeforeSeconds',
          required: true,
        },
        {
          long: 'break-glass-ttl',
          value: 'duration',
          description:
            'let teammates with a grant take a lease at once, without approval, at most this long (off unless set)',
          parse: durationOption('--break-glass-ttl'),
          field: 'breakGlassSeconds',
        },
      ],
      examples: [
        'bella environments set-lease-policy --project my-api --environment production --ttl 24h --warn-before 2h',
        'bella environments set-lease-policy -p my-api -e production --ttl 8h --warn-before 1h --break-glass-ttl 1h',
      ],
      action: setPolicy,
    },
    {
      name: 'get-lease-policy',
      summary: 'show the lease policy of an environment',
      options: [projectOption(), environmentOption()],
      action: getPolicy,
    },
    {
      name: 'clear-lease-policy',
      summary: 'remove the lease policy of an environment',
      options: [projectOption(), environmentOption()],
      action: clearPolicy,
    },
  ],
};
