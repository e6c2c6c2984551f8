import type { CommandSpec } from './framework/spec';
import { auditCommand } from './commands/audit';
import { ciCommand } from './commands/ci';
import { completeCommand, completionCommand } from './commands/completion';
import { contextCommand } from './commands/context';
import { daemonCommand } from './commands/daemon';
import { databasesCommand } from './commands/databases';
import { doctorCommand } from './commands/doctor';
import { environmentsCommand } from './commands/environments';
import { injectCommand } from './commands/inject';
import { issueCommand } from './commands/issue';
import { leasesCommand } from './commands/leases';
import { listenerCommand } from './commands/listener';
import { notificationsCommand } from './commands/notifications';
import { projectsCommand } from './commands/projects';
import { pullCommand } from './commands/pull';
import { runCommand } from './commands/run';
import { secretsCommand } from './commands/secrets';
import { teamCommand, whoamiCommand } from './commands/team';
import { requestCommand, requestsCommand } from './commands/requests';
import { tokenCommand } from './commands/token';

/*
 * Every command of `bella`, once: the parser, help, docs/cli.md and completion all read this
 * table. Each group's spec sits beside its actions, one file per group in commands/ (`bella
 * leases …` in commands/leases.ts), with the options several share in commands/shared-options.ts.
 * The commands are bundled with it (one file loads faster than many small ones); what is heavy or
 * rare (yaml, dotenv, the schema library, spawning a daemon) they load on demand.
 */

/** The `bella` command and everything under it, in the order help lists them. */
export const ROOT: CommandSpec = {
  name: 'bella',
  summary: 'short-lived, scoped, audited access to secrets',
  subcommands: [
    daemonCommand,
    projectsCommand,
    environmentsCommand,
    secretsCommand,
    pullCommand,
    leasesCommand,
    issueCommand,
    runCommand,
    injectCommand,
    auditCommand,
    contextCommand,
    notificationsCommand,
    listenerCommand,
    tokenCommand,
    ciCommand,
    teamCommand,
    whoamiCommand,
    databasesCommand,
    requestCommand,
    requestsCommand,
    completionCommand,
    doctorCommand,
    completeCommand,
  ],
};
