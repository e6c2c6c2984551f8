import type { IncomingMessage } from 'node:http';
import { BellaError, routes, type ActiveNode, type StorageStatus } from '../api';
import { who, type LeaderView } from '../store/postgres/leadership';
import type { PostgresStore } from '../store/postgres/store';
import { errorAnswer, type Answer } from './http/serve';

/** How long a standby trusts its reading of who is active before asking PostgreSQL again. */
const VIEW_MS = 250;
/** What a standby tells holders to wait before retrying when no node is active. */
const RETRY_AFTER_S = 1;

/**
 * Routes a standby still answers on its own socket: whether it runs, stopping it, and reading and
 * verifying the audit chain (read from PostgreSQL, so the same from every node).
 */
const STANDBY_SOCKET_PATHS = new Set([
  routes.status.path,
  routes.shutdown.path,
  routes.listAudit.path,
  routes.verifyAudit.path,
]);

/** Where a node's state lives, as `host:port/database` (never credentials). */
export function serverOf(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * A node's part among the nodes sharing one PostgreSQL: active (it commits and serves) or standby
 * (it answers holders with a redirect to the active node, or 503 with Retry-After when none is).
 */
export class NodeRole {
  private epoch: number | null = null;
  private view: { at: number; leader: LeaderView | null } = { at: 0, leader: null };
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: PostgresStore,
    private readonly node: string,
    private readonly url: string | null,
    private readonly connectionString: string,
  ) {}

  get active(): boolean {
    return this.epoch !== null;
  }

  /** This node became active under `epoch`. */
  activated(epoch: number): void {
    this.epoch = epoch;
    this.view = { at: 0, leader: null };
  }

  /** Asks PostgreSQL who is active, at most every {@link VIEW_MS}; a failure reads as "none". */
  private async leader(): Promise<LeaderView | null> {
    if (Date.now() - this.view.at > VIEW_MS) {
      this.refreshing ??= who(this.store.connection)
        .then(
          (leader) => (this.view = { at: Date.now(), leader }),
          () => (this.view = { at: Date.now(), leader: null }),
        )
        .then(() => {
          this.refreshing = null;
        });
      await this.refreshing;
    }
    return this.view.leader;
  }

  /** The active node, if one holds leadership now (and it is not this standby's stale record). */
  private async activeNode(): Promise<ActiveNode | null> {
    const leader = await this.leader();
    if (!leader?.held) return null;
    return {
      node: leader.node,
      url: leader.url,
      epoch: leader.epoch,
      since: leader.since ? leader.since.toISOString() : null,
    };
  }

  async status(): Promise<StorageStatus> {
    return {
      kind: 'postgres',
      server: serverOf(this.connectionString),
      role: this.active ? 'active' : 'standby',
      node: this.node,
      url: this.url,
      epoch: this.epoch,
      active: await this.activeNode(),
    };
  }

  /**
   * What a standby answers a holder on its listener: 307 to the same request on the active node
   * (holders follow it only to a server they listed), or 503 with Retry-After while none is active.
   */
  async standbyAnswer(request: IncomingMessage): Promise<Answer | undefined> {
    if (this.active) return undefined;
    const active = await this.activeNode();
    if (active?.url && active.url !== this.url) {
      const location = new URL(request.url ?? '/', active.url).toString();
      const err = new BellaError('unavailable', `this node is a standby: the active node is ${active.url}`);
      return { ...errorAnswer(err, { location }), status: 307 };
    }
    return errorAnswer(
      new BellaError('unavailable', 'no bella node is active now (one is taking over): retry in a moment'),
      { 'retry-after': String(RETRY_AFTER_S) },
    );
  }

  /** What a standby answers on its own socket: its status and stopping it are served, nothing else. */
  async standbySocketAnswer(request: IncomingMessage): Promise<Answer | undefined> {
    if (this.active) return undefined;
    const path = (request.url ?? '/').split('?')[0]!;
    if (STANDBY_SOCKET_PATHS.has(path)) return undefined;
    const active = await this.activeNode();
    const where = active
      ? `node ${active.node ?? '?'}${active.url ? ` at ${active.url}` : ''} is active: use it (BELLA_SERVER)`
      : 'no node is active now: retry in a moment';
    return errorAnswer(new BellaError('unavailable', `this bella daemon is a standby; ${where}`), {
      'retry-after': String(RETRY_AFTER_S),
    });
  }
}
