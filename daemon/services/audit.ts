import type { OperationArgs, OperationOutput } from '../api';
import type { ServiceContext } from './context';
import { findEnvironment, findProject } from './lookup';

/** Reading and verifying the audit trail. */
export class AuditService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Entries matching every given filter, newest first, at most `limit`, older than `before`. */
  async list(args: OperationArgs<'listAudit'>): Promise<OperationOutput<'listAudit'>> {
    const since = args.since ? Date.parse(args.since) : undefined;
    const until = args.until ? Date.parse(args.until) : undefined;
    const limit = args.limit ?? 100;
    const all = await this.ctx.store.audit.readAll();
    const entries = [];
    let nextCursor: number | null = null;
    for (let i = all.length - 1; i >= 0; i--) {
      const e = all[i]!;
      if (args.before !== undefined && e.seq >= args.before) continue;
      if (args.project && e.project !== args.project) continue;
      if (args.environment && e.environment !== args.environment) continue;
      if (args.event && e.event !== args.event) continue;
      if (args.outcome && e.outcome !== args.outcome) continue;
      if (args.lease && e.leaseId !== args.lease) continue;
      const ts = Date.parse(e.ts);
      if (since !== undefined && ts < since) continue;
      if (until !== undefined && ts >= until) continue;
      if (entries.length === limit) {
        nextCursor = entries[entries.length - 1]!.seq;
        break;
      }
      entries.push(e);
    }
    // A typo in a filter is a mistake, not an empty trail; a deleted project's entries still show.
    if (entries.length === 0) checkFilterExists(this.ctx, args);
    return { entries, nextCursor };
  }

  verify(): Promise<OperationOutput<'verifyAudit'>> {
    return this.ctx.store.audit.verify();
  }
}

/** A filter naming a project or environment that does not exist is a mistake, not an empty answer. */
export function checkFilterExists(ctx: ServiceContext, args: { project?: string; environment?: string }): void {
  if (args.project && args.environment) findEnvironment(ctx.store.state, args.project, args.environment);
  else if (args.project) findProject(ctx.store.state, args.project);
}
