import type { Command } from 'commander';
import type { LeasePolicy } from '../api/schemas';
import { UsageError, type Cli } from './context';
import { formatTable, formatTime, formatTtl } from './format';
import { durationOption } from './options';

/** `2h before a 24h ttl`, or `none`. */
export function describePolicy(policy: LeasePolicy | null): string {
  if (!policy) return 'none';
  return `ttl ${formatTtl(policy.ttlSeconds)}, warn ${formatTtl(policy.warnBeforeSeconds)} before expiry`;
}

interface RefOptions {
  project: string;
  environment: string;
}

/** `bella environments create|list|delete|set-lease-policy|get-lease-policy|clear-lease-policy`. */
export function registerEnvironments(program: Command, cli: Cli): void {
  const envs = program
    .command('environments')
    .alias('envs')
    .description('create, list and delete environments, and manage their lease policy');

  envs
    .command('create')
    .description('create an environment in a project')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('--name <name>', 'display name, e.g. Production')
    .requiredOption('--slug <slug>', 'short id, e.g. production')
    .action(async (opts: { project: string; name: string; slug: string }) => {
      const res = await cli.call('createEnvironment', { project: opts.project, name: opts.name, slug: opts.slug });
      const e = res.environment;
      cli.print(res, () => `created environment ${e.project}/${e.slug} (${e.name})`);
    });

  envs
    .command('list')
    .description('list the environments of a project')
    .requiredOption('-p, --project <slug>', 'the project')
    .action(async (opts: { project: string }) => {
      const res = await cli.call('listEnvironments', { project: opts.project });
      cli.print(res, () =>
        res.environments.length === 0
          ? `no environments in ${opts.project} yet: create one with \`bella environments create --project ${opts.project} --name NAME --slug SLUG\``
          : formatTable(
              ['SLUG', 'NAME', 'SECRETS', 'ACTIVE LEASES', 'LEASE POLICY', 'CREATED'],
              res.environments.map((e) => [
                e.slug,
                e.name,
                String(e.secretCount),
                String(e.activeLeases),
                describePolicy(e.policy),
                formatTime(e.createdAt),
              ]),
            ),
      );
    });

  envs
    .command('delete')
    .description('delete an environment (one that holds secrets needs --force)')
    .argument('[ref...]', 'PROJECT ENVIRONMENT or PROJECT/ENVIRONMENT (instead of the options)')
    .option('-p, --project <slug>', 'the project')
    .option('-e, --environment <slug>', 'the environment')
    .option('--force', 'also delete its secrets and revoke its leases')
    .action(async (ref: string[], opts: { project?: string; environment?: string; force?: boolean }) => {
      const parts = ref.length === 1 ? (ref[0] ?? '').split('/') : ref;
      if (parts.length > 2) throw new UsageError('name the environment as PROJECT ENVIRONMENT or PROJECT/ENVIRONMENT');
      const project = opts.project ?? (parts.length === 2 ? parts[0] : undefined);
      const environment = opts.environment ?? (parts.length === 2 ? parts[1] : parts[0]);
      if (!project || !environment) {
        throw new UsageError('name the environment: --project P --environment E (or PROJECT/ENVIRONMENT)');
      }
      const res = await cli.call('deleteEnvironment', { project, environment, force: opts.force === true });
      cli.print(
        res,
        () => `deleted environment ${res.deleted} (${res.secrets} secrets, ${res.revokedLeases} leases revoked)`,
      );
    });

  envs
    .command('set-lease-policy')
    .description('make every lease of an environment expire within --ttl, warning --warn-before expiry')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('-e, --environment <slug>', 'the environment')
    .requiredOption('--ttl <duration>', 'longest lease, e.g. 24h', durationOption('--ttl'))
    .requiredOption(
      '--warn-before <duration>',
      'warn this long before expiry, e.g. 2h',
      durationOption('--warn-before'),
    )
    .action(async (opts: RefOptions & { ttl: number; warnBefore: number }) => {
      if (opts.warnBefore >= opts.ttl) {
        throw new UsageError(
          `--warn-before (${formatTtl(opts.warnBefore)}) must be shorter than --ttl (${formatTtl(opts.ttl)})`,
        );
      }
      const res = await cli.call('setLeasePolicy', {
        project: opts.project,
        environment: opts.environment,
        ttlSeconds: opts.ttl,
        warnBeforeSeconds: opts.warnBefore,
      });
      cli.print(res, () => {
        const lines = [`lease policy of ${opts.project}/${opts.environment}: ${describePolicy(res.policy)}`];
        if (res.cappedLeases > 0) {
          lines.push(
            `${res.cappedLeases} active lease${res.cappedLeases === 1 ? '' : 's'} now expire within ${formatTtl(res.policy.ttlSeconds)}`,
          );
        }
        return lines.join('\n');
      });
    });

  envs
    .command('get-lease-policy')
    .description('show the lease policy of an environment')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('-e, --environment <slug>', 'the environment')
    .action(async (opts: RefOptions) => {
      const res = await cli.call('getLeasePolicy', { project: opts.project, environment: opts.environment });
      cli.print(res, () => `lease policy of ${opts.project}/${opts.environment}: ${describePolicy(res.policy)}`);
    });

  envs
    .command('clear-lease-policy')
    .description('remove the lease policy of an environment')
    .requiredOption('-p, --project <slug>', 'the project')
    .requiredOption('-e, --environment <slug>', 'the environment')
    .action(async (opts: RefOptions) => {
      const res = await cli.call('clearLeasePolicy', { project: opts.project, environment: opts.environment });
      cli.print(res, () =>
        res.cleared
          ? `lease policy of ${opts.project}/${opts.environment} removed`
          : `${opts.project}/${opts.environment} had no lease policy`,
      );
    });
}
