import type { Command } from 'commander';
import type { Cli } from './context';
import { printIssued } from './leases';
import { issueTtlOption, listOption } from './options';

/** `bella issue`: a short-lived scoped token for the current context, printed alone on stdout. */
export function registerIssue(program: Command, cli: Cli): void {
  program
    .command('issue')
    .description('issue a short-lived token for the keys in --scope; prints only the token (use $(bella issue …))')
    .requiredOption('--scope <keys>', 'comma-separated keys or *-globs, e.g. stripe,payment', listOption('--scope'))
    .option('--ttl <minutes>', 'lifetime in minutes, 1 to 480 (default 15)', issueTtlOption)
    .option('--reason <text>', 'why (kept in the audit trail)', 'cli-issued-token')
    .option('-p, --project <slug>', 'the project (default: from .bella)')
    .option('-e, --environment <slug>', 'the environment (default: from .bella)')
    .action(async (opts: { scope: string[]; ttl?: number; reason: string; project?: string; environment?: string }) => {
      const ref = cli.environmentRef(opts);
      const issued = await cli.call('issueLease', {
        ...ref,
        scope: opts.scope,
        ttlSeconds: opts.ttl ?? 15 * 60,
        reason: opts.reason,
      });
      printIssued(cli, issued);
    });
}
