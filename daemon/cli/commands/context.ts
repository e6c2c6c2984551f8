import fs from 'node:fs';
import path from 'node:path';
import { BellaError } from '../../api/errors';
import { CONTEXT_FILE, findContextFile } from '../context-file';
import type { Action } from '../session';
import type { CommandSpec } from '../framework/spec';

/** `bella context init [PROJECT ENVIRONMENT]`: writes `.bella` so -p/-e can be left out here. */
export const init: Action = async (cli, { args }) => {
  let project = args.PROJECT as string | undefined;
  if (!project) {
    const { projects } = await cli.call('listProjects', {});
    if (projects.length !== 1) {
      throw new BellaError(
        'invalid_argument',
        projects.length === 0
          ? 'no projects yet: create one with `bella projects create --name NAME --slug SLUG`'
          : `several projects exist (${projects.map((p) => p.slug).join(', ')}): run \`bella context init PROJECT ENVIRONMENT\``,
      );
    }
    project = (projects[0] as { slug: string }).slug;
  }
  const { environments } = await cli.call('listEnvironments', { project });
  let environment = args.ENVIRONMENT as string | undefined;
  if (!environment) {
    if (environments.length !== 1) {
      throw new BellaError(
        'invalid_argument',
        environments.length === 0
          ? `${project} has no environments: create one with \`bella environments create --project ${project} --name NAME --slug SLUG\``
          : `${project} has several environments (${environments.map((e) => e.slug).join(', ')}): run \`bella context init ${project} ENVIRONMENT\``,
      );
    }
    environment = (environments[0] as { slug: string }).slug;
  } else if (!environments.some((e) => e.slug === environment)) {
    throw new BellaError(
      'not_found',
      `${project} has no environment ${environment} (it has: ${environments.map((e) => e.slug).join(', ') || 'none'})`,
    );
  }
  const file = path.join(cli.io.cwd, CONTEXT_FILE);
  fs.writeFileSync(file, JSON.stringify({ project, environment }, null, 2) + '\n');
  cli.print({ file, project, environment }, () => `wrote ${file}: project ${project}, environment ${environment}`);
};

/** `bella context show`: which `.bella` is in force here. */
export const show: Action = async (cli) => {
  const ctx = findContextFile(cli.io.cwd);
  if (!ctx) {
    cli.print(
      { file: null, project: null, environment: null },
      () =>
        `no ${CONTEXT_FILE} in ${cli.io.cwd} or above: commands need -p PROJECT -e ENVIRONMENT (or run \`bella context init\`)`,
    );
    return;
  }
  cli.print(ctx, () =>
    [
      `project ${cli.safe(ctx.project)}, environment ${cli.safe(ctx.environment)}`,
      `from ${ctx.file} (-p/-e override it)`,
    ].join('\n'),
  );
};

/** The `bella context` command, as the parser, help, completion and docs/cli.md read it. */
export const contextCommand: CommandSpec = {
  name: 'context',
  summary: 'the project and environment a directory works on (.bella)',
  subcommands: [
    {
      name: 'init',
      summary: 'write .bella in the current directory (picks the only project/environment when omitted)',
      args: [
        { name: 'PROJECT', description: 'the project', optional: true, field: 'project', complete: 'projects' },
        {
          name: 'ENVIRONMENT',
          description: 'the environment',
          optional: true,
          field: 'environment',
          complete: 'environments',
        },
      ],
      action: init,
    },
    {
      name: 'show',
      summary: 'say which .bella file is in force here, and what it names',
      action: show,
    },
  ],
};
