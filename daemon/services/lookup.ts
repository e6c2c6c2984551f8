import { BellaError } from '../api';
import { own, type State, type StoredEnvironment, type StoredProject } from '../store';
import { unmatchedEntries } from '../base/common/scope';

/** The project `slug`, or a not_found error listing the projects that exist. */
export function findProject(state: State, slug: string): StoredProject {
  const project = own(state.projects, slug);
  if (!project) {
    const existing = Object.keys(state.projects);
    throw new BellaError(
      'not_found',
      existing.length
        ? `no project '${slug}'; existing projects: ${existing.join(', ')}`
        : `no project '${slug}'; there are no projects yet: create one first`,
    );
  }
  return project;
}

/** The environment, or a not_found error listing the environments of the project. */
export function findEnvironment(state: State, projectSlug: string, slug: string): StoredEnvironment {
  const project = findProject(state, projectSlug);
  const env = own(project.environments, slug);
  if (!env) {
    const existing = Object.keys(project.environments);
    throw new BellaError(
      'not_found',
      existing.length
        ? `no environment '${slug}' in project '${projectSlug}'; its environments: ${existing.join(', ')}`
        : `no environment '${slug}' in project '${projectSlug}'; it has no environments yet: create one first`,
    );
  }
  return env;
}

/** The environment, with every scope entry matching one of its keys; else an error listing its keys. */
export function findScopedEnvironment(
  state: State,
  project: string,
  environment: string,
  scope: readonly string[],
): StoredEnvironment {
  const env = findEnvironment(state, project, environment);
  // A key named in full is looked up (no list of the keys is made at each issue); a glob is matched
  // against them; the sorted list is for the error only.
  const globs = scope.filter((entry) => entry.includes('*') || !own(env.secrets, entry));
  if (globs.length === 0) return env;
  const keys = Object.keys(env.secrets).sort();
  const unmatched = unmatchedEntries(globs, keys);
  if (unmatched.length) {
    throw new BellaError(
      'invalid_argument',
      keys.length
        ? `scope ${unmatched.join(', ')} matches no key in ${project}/${environment}; its keys: ${keys.join(', ')}`
        : `${project}/${environment} has no secrets yet: add the keys the lease should read first`,
      { unmatched, keys },
    );
  }
  return env;
}
