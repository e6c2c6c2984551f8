import { formatTime } from '../format';
import { renderTable } from '../table';
import type { Action } from '../session';
import { wideOption } from './shared-options';
import type { CommandSpec } from '../framework/spec';

type Opts = { name?: string; slug?: string; force?: boolean; wide?: boolean };

/** `bella projects create`. */
export const create: Action = async (cli, { opts }) => {
  const o = opts as Opts;
  const res = await cli.call('createProject', { name: o.name as string, slug: o.slug as string });
  cli.print(res, () => `created project ${res.project.slug} (${cli.safe(res.project.name)})`);
};

/** `bella projects list`. */
export const list: Action = async (cli, { opts }) => {
  const res = await cli.call('listProjects', {});
  cli.print(res, () =>
    res.projects.length === 0
      ? 'no projects yet: create one with `bella projects create --name NAME --slug SLUG`'
      : renderTable(
          [
            { header: 'SLUG', keep: true },
            { header: 'NAME' },
            { header: 'ENVIRONMENTS' },
            { header: 'CREATED', keep: true },
          ],
          res.projects.map((p) => [p.slug, p.name, p.environments.join(', ') || '-', formatTime(p.createdAt)]),
          { width: (opts as Opts).wide ? Infinity : cli.width, colour: cli.colour },
        ),
  );
};

/** `bella projects delete SLUG`. */
export const remove: Action = async (cli, { args, opts }) => {
  const res = await cli.call('deleteProject', { project: args.SLUG as string, force: (opts as Opts).force === true });
  cli.print(
    res,
    () =>
      `deleted project ${res.deleted} (${res.environments} environments, ${res.secrets} secrets, ${res.revokedLeases} leases revoked)`,
  );
};

/** The `bella projects` command, as the parser, help, completion and docs/cli.md read it. */
export const projectsCommand: CommandSpec = {
  name: 'projects',
  summary: 'create, list and delete projects',
  subcommands: [
    {
      name: 'create',
      summary: 'create a project',
      options: [
        { long: 'name', value: 'name', description: 'display name, e.g. "My API"', required: true },
        {
          long: 'slug',
          value: 'slug',
          description: 'short id used by every other command, e.g. my-api',
          required: true,
        },
      ],
      examples: ['bella projects create --name "My API" --slug my-api'],
      action: create,
    },
    {
      name: 'list',
      summary: 'list projects',
      options: [wideOption],
      action: list,
    },
    {
      name: 'delete',
      summary: 'delete a project (one that holds secrets needs --force)',
      args: [{ name: 'SLUG', description: 'the project to delete', field: 'project', complete: 'projects' }],
      options: [{ long: 'force', description: 'also delete its environments and secrets and revoke its leases' }],
      action: remove,
    },
  ],
};
