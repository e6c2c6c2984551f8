import type { ChannelEvent } from '../channels';
import type { AuditInput } from '../store';
import type { ChannelsService } from './channels';
import type { ServiceContext } from './service-context';
import type { TokenRefusal } from './token-verifier';

/** Refusals of tokens of one environment within one window that raise a TokenRefusals alert. */
export const TOKEN_REFUSALS_ALERT = 10;

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
  /** Refusals per source and window that get an entry of their own. Default 5. */
  individual?: number;
  /** The aggregation window. Default 10 s. */
  windowMs?: number;
  /** Sources tracked at once; the oldest window is written out beyond it. Default 10,000. */
  maxSources?: number;
}

interface Window {
  started: number;
  individual: number;
  count: number;
  reasons: Map<string, number>;
  leases: Set<string>;
  /** Refusals of tokens whose lease is known, by environment (for the TokenRefusals alert). */
  environments: Map<string, { project: string; environment: string; count: number; leases: Set<string> }>;
  timer: NodeJS.Timeout;
}

/**
 * Audits refused token-plane requests without letting a flood grow the trail at will: per source
 * (the socket, or a peer address), the first few refusals of a window get their own Denied entry
 * (written before the refusal is answered), the rest are counted and written as one Denied entry
 * per window with the count and the reasons. Every refusal is counted; the trail grows by at most
 * `individual + 1` entries per source and window.
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly individual: number;
  private readonly windowMs: number;
  private readonly maxSources: number;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly channels: ChannelsService,
    options: RefusalLogOptions = {},
  ) {
    this.individual = options.individual ?? 5;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxSources = options.maxSources ?? 10_000;
  }

  /** Records a refusal from `source`, then throws its error. */
  async refuse(source: string, refusal: TokenRefusal, fields: Partial<AuditInput> = {}): Promise<never> {
    const window = this.window(source);
    if (refusal.lease) {
      const { project, environment, id } = refusal.lease;
      const key = `${project}/${environment}`;
      const env = window.environments.get(key) ?? { project, environment, count: 0, leases: new Set<string>() };
      env.count++;
      if (env.leases.size < 20) env.leases.add(id);
      window.environments.set(key, env);
    }
    if (window.individual < this.individual) {
      window.individual++;
      const lease = refusal.lease;
      await this.ctx.store.record([
        {
          event: 'SecretsRead',
          outcome: 'Denied',
          actor: 'token',
          source,
          message: refusal.auditMessage,
          ...(lease ? { project: lease.project, environment: lease.environment, leaseId: lease.id } : {}),
          ...fields,
        },
      ]);
    } else {
      window.count++;
      window.reasons.set(refusal.auditMessage, (window.reasons.get(refusal.auditMessage) ?? 0) + 1);
      if (refusal.lease && window.leases.size < 20) window.leases.add(refusal.lease.id);
    }
    throw refusal.error;
  }

  private window(source: string): Window {
    let window = this.windows.get(source);
    if (window) return window;
    if (this.windows.size >= this.maxSources) {
      const oldest = this.windows.keys().next().value as string;
      void this.flush(oldest);
    }
    window = {
      started: this.ctx.clock(),
      individual: 0,
      count: 0,
      reasons: new Map(),
      leases: new Set(),
      environments: new Map(),
      timer: setTimeout(() => void this.flush(source), this.windowMs),
    };
    window.timer.unref();
    this.windows.set(source, window);
    return window;
  }

  /**
   * Closes `source`'s window: writes its aggregated entry, if it counted anything past the
   * individual ones, and alerts channels of every environment whose tokens were refused past
   * {@link TOKEN_REFUSALS_ALERT}, in the same commit.
   */
  private async flush(source: string): Promise<void> {
    const window = this.windows.get(source);
    if (!window) return;
    this.windows.delete(source);
    clearTimeout(window.timer);
    const seconds = Math.max(1, Math.round((this.ctx.clock() - window.started) / 1000));
    const audit: AuditInput[] = [];
    if (window.count > 0) {
      const reasons = [...window.reasons].map(([reason, n]) => `${n} × ${reason}`).join(', ');
      const leases = window.leases.size ? `; leases ${[...window.leases].join(', ')}` : '';
      audit.push({
        event: 'SecretsRead',
        outcome: 'Denied',
        actor: 'token',
        source,
        count: window.count,
        message: `${window.count} more refusals from ${source} in ${seconds} s: ${reasons}${leases}`,
      });
    }
    const alerts: ChannelEvent[] = [...window.environments.values()]
      .filter((env) => env.count >= TOKEN_REFUSALS_ALERT)
      .map((env) => ({
        type: 'TokenRefusals',
        at: this.ctx.clock(),
        data: {
          project: env.project,
          environment: env.environment,
          leaseIds: [...env.leases],
          refusals: env.count,
          windowSeconds: seconds,
        },
      }));
    if (audit.length === 0 && alerts.length === 0) return;
    try {
      await this.ctx.store.transact((state, touched) => {
        this.channels.fanOut(state, touched, alerts);
        return { result: null, audit };
      }, 'read');
      this.channels.committed();
    } catch (err) {
      this.ctx.log(
        `audit: could not write ${window.count} aggregated refusals from ${source}: ${(err as Error).message}`,
      );
    }
  }

  /** Writes out every open window (at shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.windows.keys()].map((source) => this.flush(source)));
  }
}
