import type { Action } from '../session';
import { issueAndPrint } from './leases';

/** `bella issue`: a short-lived scoped token (default 15 minutes), printed alone on stdout. */
export const issue: Action = async (cli, { opts }) => {
  const o = opts as { scope: string[]; ttl?: number; reason?: string; project?: string; environment?: string };
  await issueAndPrint(cli, { ...o, ttl: o.ttl ?? 15 * 60, reason: o.reason ?? 'cli-issued-token' });
};
