import { acting } from './team/caller';
import {
  BellaError,
  formatDuration,
  type Environment,
  type OperationArgs,
  type OperationOutput,
  type Project,
} from '../api';
import { iso } from '../base/common/time';
import { own, touchEnvironmentRemoval, type StoredEnvironment, type StoredProject } from '../store';
import { refuseWhileDatabases } from './databases/databases';
import type { LeaseLifecycle } from './lease-lifecycle';
import { findEnvironment, findProject } from './lookup';
import type { SecretsService } from './secrets';
import type { ServiceContext } from './service-context';

/** Projects, their environments and the environments' lease policies. */
export class ProjectsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly secrets: SecretsService,
    private readonly lifecycle: LeaseLifecycle,
  ) {}

  private toProject(p: StoredProject): Project {
    return { slug: p.slug, name: p.name, createdAt: iso(p.createdAt), environments: Object.keys(p.environments) };
  }

  private toEnvironment(project: string, env: StoredEnvironment, active: Map<string, number>): Environment {
    return {
      project,
      slug: env.slug,
      name: env.name,
      createdAt: iso(env.createdAt),
      policy: env.policy,
      secretCount: Object.keys(env.secrets).length,
      activeLeases: active.get(`${project}/${env.slug}`) ?? 0,
      rotatedAt: env.rotatedAt === null ? null : iso(env.rotatedAt),
    };
  }

  listProjects(): OperationOutput<'listProjects'> {
    return { projects: Object.values(this.ctx.store.state.projects).map((p) => this.toProject(p)) };
  }

  async createProject(args: OperationArgs<'createProject'>): Promise<OperationOutput<'createProject'>> {
    const project = await this.ctx.store.transact((state, touched) => {
      if (own(state.projects, args.slug)) throw new BellaError('conflict', `project '${args.slug}' already exists`);
      const project: StoredProject = {
        slug: args.slug,
        name: args.name,
        createdAt: this.ctx.clock(),
        environments: {},
      };
      state.projects[args.slug] = project;
      touched.project(args.slug);
      return {
        result: project,
        audit: [
          { event: 'ProjectCreated', outcome: 'Success', actor: acting(), project: args.slug, message: args.name },
        ],
      };
    });
    this.changed('projects', args.slug);
    return { project: this.toProject(project) };
  }

  async deleteProject(args: OperationArgs<'deleteProject'>): Promise<OperationOutput<'deleteProject'>> {
    const out = await this.lifecycle.transact((state, leases, touched) => {
      const project = findProject(state, args.project);
      refuseWhileDatabases(state, args.project);
      const envs = Object.values(project.environments);
      const secrets = envs.reduce((n, e) => n + Object.keys(e.secrets).length, 0);
      if (secrets > 0 && !args.force) {
        throw new BellaError(
          'conflict',
          `project '${args.project}' holds ${secrets} secrets in ${envs.length} environments; delete with force (bella projects delete ${args.project} --force) to destroy them`,
        );
      }
      const revoked = leases.endAllOf(args.project, undefined, 'project deleted', acting());
      for (const env of envs) touchEnvironmentRemoval(state, touched, args.project, env);
      delete state.projects[args.project];
      touched.project(args.project);
      return {
        result: { environments: envs.length, secrets, revokedLeases: revoked.length },
        audit: [{ event: 'ProjectDeleted', outcome: 'Success', actor: acting(), project: args.project }],
      };
    }, 'release');
    this.changed('projects', args.project);
    return { deleted: args.project, ...out };
  }

  listEnvironments(args: OperationArgs<'listEnvironments'>): OperationOutput<'listEnvironments'> {
    const project = findProject(this.ctx.store.state, args.project);
    const active = this.lifecycle.activeCounts();
    return {
      environments: Object.values(project.environments).map((e) => this.toEnvironment(args.project, e, active)),
    };
  }

  async createEnvironment(args: OperationArgs<'createEnvironment'>): Promise<OperationOutput<'createEnvironment'>> {
    const env = await this.ctx.store.transact((state, touched) => {
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
      touched.environment(args.project, args.slug);
      return {
        result: env,
        audit: [
          {
            event: 'EnvironmentCreated',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.slug,
            message: args.name,
          },
        ],
      };
    });
    this.changed('environments', args.project, args.slug);
    return { environment: this.toEnvironment(args.project, env, this.lifecycle.activeCounts()) };
  }

  async deleteEnvironment(args: OperationArgs<'deleteEnvironment'>): Promise<OperationOutput<'deleteEnvironment'>> {
    const out = await this.lifecycle.transact((state, leases, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      refuseWhileDatabases(state, args.project, args.environment);
      const secrets = Object.keys(env.secrets).length;
      if (secrets > 0 && !args.force) {
        throw new BellaError(
          'conflict',
          `environment '${args.project}/${args.environment}' holds ${secrets} secrets; delete with force (--force) to destroy them`,
        );
      }
      const revoked = leases.endAllOf(args.project, args.environment, 'environment deleted', acting());
      touchEnvironmentRemoval(state, touched, args.project, env);
      delete state.projects[args.project]!.environments[args.environment];
      return {
        result: { secrets, revokedLeases: revoked.length },
        audit: [
          {
            event: 'EnvironmentDeleted',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
          },
        ],
      };
    }, 'release');
    this.changed('environments', args.project, args.environment);
    return { deleted: `${args.project}/${args.environment}`, ...out };
  }

  getPolicy(args: OperationArgs<'getLeasePolicy'>): OperationOutput<'getLeasePolicy'> {
    return { policy: findEnvironment(this.ctx.store.state, args.project, args.environment).policy };
  }

  /** Sets an environment's lease policy and caps its active leases to now + ttl. */
  async setPolicy(args: OperationArgs<'setLeasePolicy'>): Promise<OperationOutput<'setLeasePolicy'>> {
    const out = await this.lifecycle.transact((state, leases, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const policy = {
        ttlSeconds: args.ttlSeconds,
        warnBeforeSeconds: args.warnBeforeSeconds,
        ...(args.breakGlassSeconds ? { breakGlassSeconds: args.breakGlassSeconds } : {}),
      };
      env.policy = policy;
      touched.environment(args.project, args.environment);
      const cap = leases.now + args.ttlSeconds * 1000;
      let capped = 0;
      // Capped or not, every active lease gets new warn and expiry points.
      for (const lease of this.lifecycle.activeLeasesOf(args.project, args.environment)) {
        if (leases.cap(lease, cap)) capped++;
      }
      return {
        result: { policy, capped },
        audit: [
          {
            event: 'LeasePolicySet',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
            message: `ttl ${formatDuration(args.ttlSeconds)}, warn ${formatDuration(args.warnBeforeSeconds)} before${args.breakGlassSeconds ? `, break-glass up to ${formatDuration(args.breakGlassSeconds)}` : ''}; ${capped} active leases capped to ${iso(cap)}`,
          },
        ],
      };
    });
    this.changed('policy', args.project, args.environment);
    return { policy: out.policy, cappedLeases: out.capped };
  }

  async clearPolicy(args: OperationArgs<'clearLeasePolicy'>): Promise<OperationOutput<'clearLeasePolicy'>> {
    const had = await this.lifecycle.transact((state, leases, touched) => {
      const env = findEnvironment(state, args.project, args.environment);
      const had = env.policy !== null;
      if (!had) return { result: false };
      env.policy = null;
      touched.environment(args.project, args.environment);
      for (const lease of this.lifecycle.activeLeasesOf(args.project, args.environment)) leases.reschedule(lease);
      return {
        result: true,
        audit: [
          {
            event: 'LeasePolicyCleared',
            outcome: 'Success',
            actor: acting(),
            project: args.project,
            environment: args.environment,
          },
        ],
      };
    });
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
