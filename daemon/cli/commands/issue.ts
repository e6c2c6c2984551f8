import { parseDuration } from '../../api/durations';
import { UsageError } from '../framework/errors';
import type { CommandSpec } from '../framework/spec';
import type { Action } from '../session';
import { issueAndPrint } from './leases';
import { dbOption, environmentOption, projectOption, scopeOption } from './shared-options';

/** `bella issue`: a short-lived scoped token (default 15 minutes), printed alone on stdout. */
export const issue: Action = async (cli, { opts }) => {
  const o = opts as {
    scope?: string[];
    ttl?: number;
    reason?: string;
    project?: string;
    environment?: string;
    db?: string;
  };
  await issueAndPrint(cli, { ...o, ttl: o.ttl ?? 15 * 60, reason: o.reason ?? 'cli-issued-token' });
};

/** `bella issue --ttl`: minutes from 1 to 480 (a duration such as 2h is accepted too); returns seconds. */
export function issueTtlOption(value: string): number {
  const text = value.trim();
  const seconds = /^[+-]?\d+$/.test(text) ? Number(text) * 60 : parseDuration(text);
  if (seconds === undefined || !Number.isSafeInteger(seconds) || seconds < 60 || seconds > 480 * 60) {
    throw new UsageError(`--ttl is in minutes, from 1 to 480 (e.g. --ttl 30 or --ttl 2h), not '${value}'`);
  }
  return seconds;
}

/** The `bella issue` command, as the parser, help, completion and docs/cli.md read it. */
export const issueCommand: CommandSpec = {
  name: 'issue',
  summary: 'issue a short-lived token for the keys in --scope; prints only the token (use $(bella issue …))',
  details: 'Works on the .bella environment unless -p/-e say otherwise. The lease id and expiry go to stderr.',
  options: [
    scopeOption('comma-separated keys or *-globs, e.g. STRIPE_KEY,PAYMENT_* (required unless --db)'),
    {
      long: 'ttl',
      value: 'minutes',
      description: 'lifetime in minutes, 1 to 480 (default 15); 2h works too',
      parse: issueTtlOption,
      field: 'ttlSeconds',
    },
    { long: 'reason', value: 'text', description: 'why (kept in the audit trail; default cli-issued-token)' },
    projectOption(),
    environmentOption(),
    dbOption('a database login role of its own (DATABASE:ROLE), read as <DATABASE>_URL'),
  ],
  examples: [
    'bella issue -p my-api -e production --scope DATABASE_URL --ttl 30 --reason "Refund agent"',
    'TOKEN=$(bella issue -p my-api -e production --scope DATABASE_URL --reason "CI job")',
  ],
  action: issue,
};
