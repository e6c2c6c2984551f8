import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Environment, Lease, Project } from '../../../daemon/api/types';
import { bella } from './bella';
import { useDaemonEvent } from './events';

/** What the whole window shares: the project tree and every active lease. */
export interface AppData {
  loaded: boolean;
  projects: Project[];
  environments: Record<string, Environment[]>;
  activeLeases: Lease[];
  /** Set while the daemon cannot be reached or the tree failed to load. */
  error: unknown;
  reload: () => void;
}

const Ctx = createContext<AppData | null>(null);

/** Loads the project tree and active leases, and reloads them when the daemon says they changed. */
export function AppDataProvider({ children }: { children: ReactNode }) {
  const [projects, setProjects] = useState<Project[]>([]);
  const [environments, setEnvironments] = useState<Record<string, Environment[]>>({});
  const [activeLeases, setActiveLeases] = useState<Lease[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [treeRev, setTreeRev] = useState(0);
  const [leaseRev, setLeaseRev] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const { projects } = await bella().listProjects({});
        const envs = await Promise.all(
          projects.map((p) =>
            bella()
              .listEnvironments({ project: p.slug })
              .then((r) => r.environments),
          ),
        );
        if (!live) return;
        setProjects(projects);
        setEnvironments(Object.fromEntries(projects.map((p, i) => [p.slug, envs[i] ?? []])));
        setError(null);
      } catch (err) {
        if (live) setError(err);
      } finally {
        if (live) setLoaded(true);
      }
    })();
    return () => {
      live = false;
    };
  }, [treeRev]);

  useEffect(() => {
    let live = true;
    bella()
      .listLeases({ status: 'active', limit: 10_000 })
      .then((r) => live && setActiveLeases(r.leases))
      .catch((err) => live && setError(err));
    return () => {
      live = false;
    };
  }, [leaseRev]);

  useDaemonEvent((e) => {
    if (e.type === 'DataChanged') {
      if (e.resource !== 'notifications') setTreeRev((r) => r + 1);
      // A resync after a reconnect names no project: anything, leases included, may have changed.
      if (e.project === undefined) setLeaseRev((r) => r + 1);
    } else {
      setLeaseRev((r) => r + 1);
      setTreeRev((r) => r + 1);
    }
  });

  const reload = useCallback(() => {
    setTreeRev((r) => r + 1);
    setLeaseRev((r) => r + 1);
  }, []);

  return (
    <Ctx.Provider value={{ loaded, projects, environments, activeLeases, error, reload }}>{children}</Ctx.Provider>
  );
}

/** The shared window data. */
export function useAppData(): AppData {
  const v = useContext(Ctx);
  if (!v) throw new Error('useAppData outside AppDataProvider');
  return v;
}

/** Calls an async loader when its deps change and keeps its result, error and loading state. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}
