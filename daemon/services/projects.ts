import {
  BellaError,
  formatDuration,
  type Environment,
  type OperationArgs,
  type OperationOutput,
  type Project,
} from '../api';
import {
  own,
  type AuditInput,
  type State,
  type StoredEnvironment,
  type StoredLease,
  type StoredProject,
} from '../store';
import { iso, type ServiceContext } from './context';
import { effectiveStatus, endLease, leaseIdsOf } from './leases';
import { findEnvironment, findProject } from './lookup';
import type { SecretsService } from './secrets';

/** Projects, their environments and the environments' lease policies. */
export class ProjectsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
  ) {}

  private toProject(p: StoredProject): Project {
    return { slug: p.slug, name: p.name, createdAt: iso(p.createdAt), environments: Object.keys(p.environments) };
  }

  private toEnvironment(project: string, env: StoredEnvironment): Environment {
    const now = this.ctx.clock();
    let activeLeases = 0;
    for (const lease of this.ctx.store.state.leases.values()) {
      if (lease.project === project && lease.environment === env.slug && effectiveStatus(lease, now) === 'active')
        activeLeases++;
    }
    return {
      project,
      slug: env.slug,
      name: env.name,
      createdAt: iso(env.createdAt),
      policy: env.policy,
      secretCount: Object.keys(env.secrets).length,
      activeLeases,
      rotatedAt: env.rotatedAt === null ? null : iso(env.rotatedAt),
    };
  }

  listProjects(): OperationOutput<'listProjects'> {
    return { projects: Object.values(this.ctx.store.state.projects).map((p) => this.toProject(p)) };
  }

  async createProject(args: OperationArgs<'createProject'>): Promise<OperationOutput<'createProject'>> {
    const project = await this.ctx.store.transact((state) => {
      if (own(state.projects, args.slug)) throw new BellaError('conflict', `project '${args.slug}' already exists`);
      const project: StoredProject = {
        slug: args.slug,
        name: args.name,
        createdAt: this.ctx.clock(),
        environments: {},
      };
      state.projects[args.slug] = project;
      return {
        result: project,
        touched: { projects: [args.slug] },
        audit: [
          { event: 'ProjectCreated', outcome: 'Success', actor: 'owner', project: args.slug, message: args.name },
        ],
      };
    });
    this.changed('projects', args.slug);
    return { project: this.toProject(project) };
  }

  async deleteProject(args: OperationArgs<'deleteProject'>): Promise<OperationOutput<'deleteProject'>> {
    const out = await this.ctx.store.transact((state) => {
      const project = findProject(state, args.project);
      const envs = Object.values(project.environments);
      const secrets = envs.reduce((n, e) => n + Object.keys(e.secrets).length, 0);
      if (secrets > 0 && !args.force) {
        throw new BellaError(
          'conflict',
          `project '${args.project}' holds ${secrets} secrets in ${envs.length} environments; delete with force (bella projects delete ${args.project} --force) to destroy them`,
        );
      }
      const audit = this.endLeasesOf(state, args.project, undefined, 'project deleted');
      delete state.projects[args.project];
      audit.push({ event: 'ProjectDeleted', outcome: 'Success', actor: 'owner', project: args.project });
      const ended = leaseIdsOf(audit);
      return {
        result: { environments: envs.length, secrets, revokedLeases: ended.length },
        audit,
        touched: { leases: ended, projects: [args.project] },
      };
    });
    this.changed('projects', args.project);
    return { deleted: args.project, ...out };
  }

  listEnvironments(args: OperationArgs<'listEnvironments'>): OperationOutput<'listEnvironments'> {
    const project = findProject(this.ctx.store.state, args.project);
    return { environments: Object.values(project.environments).map((e) => this.toEnvironment(args.project, e)) };
  }

  async createEnvironment(args: OperationArgs<'createEnvironment'>): Promise<OperationOutput<'createEnvironment'>> {
    const env = await this.ctx.store.transact((state) => {
      const project = findProject(state, args.project);
      if (own(project.environments, args.slug)) {
        throw new BellaError('conflict', `environment '${args.slug}' already exists in project '${args.project}'`);
      }
      const env: StoredEnvironment = {
        slug: args.slug,
        name: args.name,
        createdAt: this.ctx.clock(),
        policy: null,
        dataKey: this.secrets.newWrappedKey(args.project, args.slug, 1),
        keyVersion: 1,
        tokenEpoch: 1,
        rotatedAt: null,
        secrets: {},
      };
      project.environments[args.slug] = env;
      return {
        result: env,
        touched: { projects: [args.project] },
        audit: [
          {
            event: 'EnvironmentCreated',
            outcome: 'Success',
            actor: 'owner',
            project: args.project,
            environment: args.slug,
            message: args.name,
          },
        ],
      };
    });
    this.changed('environments', args.project, args.slug);
    return { environment: this.toEnvironment(args.project, env) };
  }

  async deleteEnvironment(args: OperationArgs<'deleteEnvironment'>): Promise<OperationOutput<'deleteEnvironment'>> {
    const out = await this.ctx.store.transact((state) => {
      const env = findEnvironment(state, args.project, args.environment);
      const secrets = Object.keys(env.secrets).length;
      if (secrets > 0 && !args.force) {
        throw new BellaError(
          'conflict',
          `environment '${args.project}/${args.environment}' holds ${secrets} secrets; delete with force (--force) to destroy them`,
        );
      }
      const audit = this.endLeasesOf(state, args.project, args.environment, 'environment deleted');
      delete state.projects[args.project]!.environments[args.environment];
      audit.push({
        event: 'EnvironmentDeleted',
        outcome: 'Success',
        actor: 'owner',
        project: args.project,
        environment: args.environment,
      });
      const ended = leaseIdsOf(audit);
      return {
        result: { secrets, revokedLeases: ended.length },
        audit,
        touched: { leases: ended, projects: [args.project] },
      };
    });
    this.changed('environments', args.project, args.environment);
    return { deleted: `${args.project}/${args.environment}`, ...out };
  }

  /** Revokes the active leases of a project (or one environment of it) inside a transaction. */
  private endLeasesOf(state: State, project: string, environment: string | undefined, reason: string): AuditInput[] {
    const now = this.ctx.clock();
    const audit: AuditInput[] = [];
    for (const lease of state.leases.values()) {
      if (lease.project !== project || (environment && lease.environment !== environment) || lease.status !== 'active')
        continue;
      audit.push(endLease(lease, 'revoked', now, reason, 'owner'));
      this.ctx.watcher.ended(lease.id);
    }
    return audit;
  }

  private activeLeasesOf(state: State, project: string, environment: string): StoredLease[] {
    const now = this.ctx.clock();
    return [...state.leases.values()].filter(
      (l) => l.project === project && l.environment === environment && effectiveStatus(l, now) === 'active',
    );
  }

  getPolicy(args: OperationArgs<'getLeasePolicy'>): OperationOutput<'getLeasePolicy'> {
    return { policy: findEnvironment(this.ctx.store.state, args.project, args.environment).policy };
  }

  async setPolicy(args: OperationArgs<'setLeasePolicy'>): Promise<OperationOutput<'setLeasePolicy'>> {
    if (args.warnBeforeSeconds >= args.ttlSeconds) {
      throw new BellaError(
        'invalid_argument',
        `warn-before (${formatDuration(args.warnBeforeSeconds)}) must be shorter than the ttl (${formatDuration(args.ttlSeconds)})`,
      );
    }
    const out = await this.ctx.store.transact((state) => {
      const now = this.ctx.clock();
      const env = findEnvironment(state, args.project, args.environment);
      const policy = { ttlSeconds: args.ttlSeconds, warnBeforeSeconds: args.warnBeforeSeconds };
      env.policy = policy;
      const cap = now + args.ttlSeconds * 1000;
      const active = this.activeLeasesOf(state, args.project, args.environment);
      let capped = 0;
      for (const lease of active) {
        if (lease.expiresAt > cap) {
          lease.expiresAt = cap;
          capped++;
        }
      }
      return {
        result: { policy, capped, active },
        touched: { leases: active.map((l) => l.id), projects: [args.project] },
        audit: [
          {
            event: 'LeasePolicySet',
            outcome: 'Success',
            actor: 'owner',
            project: args.project,
            environment: args.environment,
            message: `ttl ${formatDuration(args.ttlSeconds)}, warn ${formatDuration(args.warnBeforeSeconds)} before; ${capped} active leases capped to ${iso(cap)}`,
          },
        ],
      };
    });
    // Capped or not, every active lease has new warn and expiry points.
    for (const lease of out.active) this.ctx.watcher.changed(lease);
    this.changed('policy', args.project, args.environment);
    return { policy: out.policy, cappedLeases: out.capped };
  }

  async clearPolicy(args: OperationArgs<'clearLeasePolicy'>): Promise<OperationOutput<'clearLeasePolicy'>> {
    const { had, active } = await this.ctx.store.transact((state) => {
      const env = findEnvironment(state, args.project, args.environment);
      const had = env.policy !== null;
      env.policy = null;
      return {
        result: { had, active: this.activeLeasesOf(state, args.project, args.environment) },
        touched: { projects: [args.project] },
        audit: had
          ? [
              {
                event: 'LeasePolicyCleared' as const,
                outcome: 'Success' as const,
                actor: 'owner' as const,
                project: args.project,
                environment: args.environment,
              },
            ]
          : [],
      };
    });
    for (const lease of active) this.ctx.watcher.changed(lease);
    this.changed('policy', args.project, args.environment);
    return { cleared: had };
  }

  private changed(resource: 'projects' | 'environments' | 'policy', project: string, environment?: string): void {
    this.ctx.events.emit({
      type: 'DataChanged',
      at: iso(this.ctx.clock()),
      resource,
      project,
      ...(environment ? { environment } : {}),
    });
  }
}
