import type { Command } from 'commander';
import type { Cli } from './context';
import { formatTable, formatTime } from './format';

/** `bella projects create|list|delete`. */
export function registerProjects(program: Command, cli: Cli): void {
  const projects = program.command('projects').description('create, list and delete projects');

  projects
    .command('create')
    .description('create a project')
    .requiredOption('--name <name>', 'display name, e.g. "My API"')
    .requiredOption('--slug <slug>', 'short id used by every other command, e.g. my-api')
    .action(async (opts: { name: string; slug: string }) => {
      const res = await cli.call('createProject', { name: opts.name, slug: opts.slug });
      cli.print(res, () => `created project ${res.project.slug} (${res.project.name})`);
    });

  projects
    .command('list')
    .description('list projects')
    .action(async () => {
      const res = await cli.call('listProjects', {});
      cli.print(res, () =>
        res.projects.length === 0
          ? 'no projects yet: create one with `bella projects create --name NAME --slug SLUG`'
          : formatTable(
              ['SLUG', 'NAME', 'ENVIRONMENTS', 'CREATED'],
              res.projects.map((p) => [p.slug, p.name, p.environments.join(', ') || '-', formatTime(p.createdAt)]),
            ),
      );
    });

  projects
    .command('delete')
    .description('delete a project (one that holds secrets needs --force)')
    .argument('<slug>', 'the project to delete')
    .option('--force', 'also delete its environments and secrets and revoke its leases')
    .action(async (slug: string, opts: { force?: boolean }) => {
      const res = await cli.call('deleteProject', { project: slug, force: opts.force === true });
      cli.print(
        res,
        () =>
          `deleted project ${res.deleted} (${res.environments} environments, ${res.secrets} secrets, ${res.revokedLeases} leases revoked)`,
      );
    });
}
