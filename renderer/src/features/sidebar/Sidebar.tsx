import { useState } from 'react';
import { Icon, type IconName } from '../../components/Icon';
import { errorCode } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import type { Route, View } from '../../lib/route';
import { NewEnvironmentDialog, NewProjectDialog } from '../projects/CreateDialogs';
import { describeStorage } from '../status/daemon-status';
import type { StorageStatus } from '../../../../daemon/api/routes';
import './sidebar.css';

const DAEMON_VIEWS: { view: View; label: string; icon: IconName }[] = [
  { view: 'requests', label: 'Requests', icon: 'lock' },
  { view: 'team', label: 'Team', icon: 'users' },
  { view: 'listener', label: 'Team access', icon: 'globe' },
  { view: 'notifications', label: 'Notifications', icon: 'bell' },
  { view: 'audit', label: 'Audit trail', icon: 'list' },
];

/**
 * The project and environment tree, the daemon-wide screens, and at the foot the daemon's state:
 * active leases, and where its state is kept when that is shared with other nodes.
 */
export function Sidebar({
  route,
  navigate,
  storage,
}: {
  route: Route;
  navigate: (r: Route) => void;
  storage: StorageStatus | null;
}) {
  const { projects, environments, activeLeases, error } = useAppData();
  const offline = errorCode(error) === 'unavailable';
  const shared = storage && !offline ? describeStorage(storage) : null;
  const [creating, setCreating] = useState<'project' | { env: string } | null>(null);
  return (
    <nav className="sidebar" aria-label="Projects, environments and daemon settings">
      <div className="brand">
        <span className="logo-mark brand-mark" aria-hidden>
          <Icon name="key" size={16} />
        </span>
        <span className="brand-name">bella</span>
      </div>
      <div className="sidebar-section">
        <div className="sidebar-heading">
          <span id="projects-heading">Projects</span>
          <button
            type="button"
            className="icon-button small"
            aria-label="New project"
            title="New project"
            onClick={() => setCreating('project')}
          >
            <Icon name="plus" size={14} />
          </button>
        </div>
        {projects.length === 0 && <p className="sidebar-empty">No projects yet.</p>}
        <ul className="tree" aria-labelledby="projects-heading">
          {projects.map((p) => {
            const envs = environments[p.slug] ?? [];
            const projectSelected = !route.view && route.project === p.slug;
            return (
              <li key={p.slug}>
                <a
                  href={`#/p/${p.slug}`}
                  className={`tree-item project${projectSelected && !route.environment ? ' selected' : ''}`}
                  aria-current={projectSelected && !route.environment ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ project: p.slug, tab: route.tab });
                  }}
                >
                  <Icon name="folder" />
                  <span className="tree-label">{p.name}</span>
                </a>
                <ul className="tree nested" aria-label={`Environments of ${p.name}`}>
                  {envs.map((e) => {
                    const selected = projectSelected && route.environment === e.slug;
                    const live = activeLeases.filter((l) => l.project === p.slug && l.environment === e.slug).length;
                    return (
                      <li key={e.slug}>
                        <a
                          href={`#/p/${p.slug}/e/${e.slug}/${route.tab}`}
                          className={`tree-item env${selected ? ' selected' : ''}`}
                          aria-current={selected ? 'page' : undefined}
                          onClick={(ev) => {
                            ev.preventDefault();
                            navigate({ project: p.slug, environment: e.slug, tab: route.tab });
                          }}
                        >
                          <span className="env-dot" aria-hidden />
                          <span className="tree-label">{e.name}</span>
                          {live > 0 && (
                            <span className="pill" title={`${live} active lease${live === 1 ? '' : 's'}`}>
                              {live}
                            </span>
                          )}
                        </a>
                      </li>
                    );
                  })}
                  {projectSelected && (
                    <li>
                      <button type="button" className="tree-item add" onClick={() => setCreating({ env: p.slug })}>
                        <Icon name="plus" size={14} />
                        <span className="tree-label">New environment</span>
                      </button>
                    </li>
                  )}
                </ul>
              </li>
            );
          })}
        </ul>
      </div>
      <div className="sidebar-section daemon-section">
        <div className="sidebar-heading">
          <span id="daemon-heading">This daemon</span>
        </div>
        <ul className="tree" aria-labelledby="daemon-heading">
          {DAEMON_VIEWS.map((v) => (
            <li key={v.view}>
              <a
                href={`#/${v.view}`}
                className={`tree-item project${route.view === v.view ? ' selected' : ''}`}
                aria-current={route.view === v.view ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate({ view: v.view, tab: route.tab });
                }}
              >
                <Icon name={v.icon} />
                <span className="tree-label">{v.label}</span>
              </a>
            </li>
          ))}
        </ul>
      </div>
      <div className="sidebar-footer">
        <span className={`status-dot${offline ? ' offline' : ''}`} aria-hidden />
        <span>
          {offline
            ? 'Daemon not answering'
            : activeLeases.length === 0
              ? 'No active leases'
              : `${activeLeases.length} active lease${activeLeases.length === 1 ? '' : 's'}`}
        </span>
      </div>
      {shared && (
        <p className="sidebar-storage" role="note" aria-label="Storage">
          {shared}
        </p>
      )}
      {creating === 'project' && (
        <NewProjectDialog
          onClose={() => setCreating(null)}
          onCreated={(slug) => {
            setCreating(null);
            navigate({ project: slug, tab: 'secrets' });
          }}
        />
      )}
      {creating && typeof creating === 'object' && (
        <NewEnvironmentDialog
          project={creating.env}
          onClose={() => setCreating(null)}
          onCreated={(slug) => {
            setCreating(null);
            navigate({ project: creating.env, environment: slug, tab: 'secrets' });
          }}
        />
      )}
    </nav>
  );
}
