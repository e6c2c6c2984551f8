import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Projects and environments. */
export function projectRoutes({ projects }: Services) {
  return {
    listProjects: () => projects.listProjects(),
    createProject: (args) => projects.createProject(args),
    deleteProject: (args) => projects.deleteProject(args),
    listEnvironments: (args) => projects.listEnvironments(args),
    createEnvironment: (args) => projects.createEnvironment(args),
    deleteEnvironment: (args) => projects.deleteEnvironment(args),
    getLeasePolicy: (args) => projects.getPolicy(args),
    setLeasePolicy: (args) => projects.setPolicy(args),
    clearLeasePolicy: (args) => projects.clearPolicy(args),
  } satisfies Partial<Handlers>;
}
