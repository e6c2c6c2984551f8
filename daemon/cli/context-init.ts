import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { BellaError } from '../api/errors';
import type { Cli } from './context';

/** `bella context init [PROJECT ENVIRONMENT]`: writes `.bella` so -p/-e can be left out here. */
export function registerContext(program: Command, cli: Cli): void {
  const context = program.command('context').description('the project and environment a directory works on');

  context
    .command('init')
    .description('write .bella in the current directory (picks the only project/environment when omitted)')
    .argument('[project]', 'the project')
    .argument('[environment]', 'the environment')
    .action(async (projectArg: string | undefined, environmentArg: string | undefined) => {
      let project = projectArg;
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
        project = projects[0]?.slug as string;
      }
      const { environments } = await cli.call('listEnvironments', { project });
      let environment = environmentArg;
      if (!environment) {
        if (environments.length !== 1) {
          throw new BellaError(
            'invalid_argument',
            environments.length === 0
              ? `${project} has no environments: create one with \`bella environments create --project ${project} --name NAME --slug SLUG\``
              : `${project} has several environments (${environments.map((e) => e.slug).join(', ')}): run \`bella context init ${project} ENVIRONMENT\``,
          );
        }
        environment = environments[0]?.slug as string;
      } else if (!environments.some((e) => e.slug === environment)) {
        throw new BellaError(
          'not_found',
          `${project} has no environment ${environment} (it has: ${environments.map((e) => e.slug).join(', ') || 'none'})`,
        );
      }
      const file = path.join(cli.io.cwd, '.bella');
      const content = { project, environment };
      fs.writeFileSync(file, JSON.stringify(content, null, 2) + '\n');
      cli.print({ file, ...content }, () => `wrote ${file}: project ${project}, environment ${environment}`);
    });
}
