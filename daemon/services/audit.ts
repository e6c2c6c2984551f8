import type { OperationArgs, OperationOutput } from '../api';
import type { ServiceContext } from './context';

/** Reading and verifying the audit trail. */
export class AuditService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Entries matching every given filter, oldest first; the newest `limit` of them. */
  async list(args: OperationArgs<'listAudit'>): Promise<OperationOutput<'listAudit'>> {
    const since = args.since ? Date.parse(args.since) : undefined;
    const matched = (await this.ctx.store.audit.readAll()).filter(
      (e) =>
        (!args.project || e.project === args.project) &&
        (!args.environment || e.environment === args.environment) &&
        (!args.event || e.event === args.event) &&
        (!args.outcome || e.outcome === args.outcome) &&
        (!args.lease || e.leaseId === args.lease) &&
        (since === undefined || Date.parse(e.ts) >= since),
    );
    const limit = args.limit ?? 1000;
    return { entries: matched.slice(-limit), total: matched.length };
  }

  verify(): Promise<OperationOutput<'verifyAudit'>> {
    return this.ctx.store.audit.verify();
  }
}
