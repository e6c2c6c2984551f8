import type { OperationArgs, OperationOutput } from '../api';
import type { ServiceContext } from './service-context';
import { findEnvironment, findProject } from './lookup';

/** Reading and verifying the audit trail. */
export class AuditService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Entries matching every given filter, newest first, at most `limit`, older than `before`. */
  async list(args: OperationArgs<'listAudit'>): Promise<OperationOutput<'listAudit'>> {
    const out = await this.ctx.store.queryAudit(
      {
        project: args.project,
        environment: args.environment,
        event: args.event,
        outcome: args.outcome,
        lease: args.lease,
        actor: args.actor,
        since: args.since ? Date.parse(args.since) : undefined,
        until: args.until ? Date.parse(args.until) : undefined,
      },
      args.limit ?? 100,
      args.before,
    );
    // A typo in a filter is a mistake, not an empty trail; a deleted project's entries still show.
    if (out.entries.length === 0 && args.before === undefined) checkFilterExists(this.ctx, args);
    return out;
  }

  verify(): Promise<OperationOutput<'verifyAudit'>> {
    return this.ctx.store.verifyAudit();
  }
}

/** A filter naming a project or environment that does not exist is a mistake, not an empty answer. */
export function checkFilterExists(ctx: ServiceContext, args: { project?: string; environment?: string }): void {
  if (args.project && args.environment) findEnvironment(ctx.store.state, args.project, args.environment);
  else if (args.project) findProject(ctx.store.state, args.project);
}
