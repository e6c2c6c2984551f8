import { useRef, type KeyboardEvent } from 'react';
import type { Environment, Project } from '../../../../daemon/api/types';
import { Icon, type IconName } from '../../components/Icon';
import { useAppData } from '../../lib/data';
import { plainDuration } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { TABS, type Tab } from '../../lib/route';
import { SecretsView } from '../secrets/SecretsView';
import { LeasesView } from '../leases/LeasesView';
import { PolicyView } from '../policy/PolicyView';
import { AuditView } from '../audit/AuditView';
import './environment.css';

const TAB_INFO: Record<Tab, { label: string; icon: IconName }> = {
  secrets: { label: 'Secrets', icon: 'key' },
  leases: { label: 'Leases', icon: 'clock' },
  policy: { label: 'Lease policy', icon: 'sliders' },
  audit: { label: 'Audit', icon: 'list' },
};

/** One environment: a header and the Secrets, Leases, Lease policy and Audit tabs. */
export function EnvironmentView({
  project,
  environment,
  tab,
  onTab,
}: {
  project: Project;
  environment: Environment;
  tab: Tab;
  onTab: (tab: Tab) => void;
}) {
  const { activeLeases } = useAppData();
  const live = activeLeases.filter((l) => l.project === project.slug && l.environment === environment.slug).length;
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});

  function onKey(e: KeyboardEvent) {
    const i = TABS.indexOf(tab);
    let next: Tab | undefined;
    if (e.key === 'ArrowRight') next = TABS[(i + 1) % TABS.length];
    if (e.key === 'ArrowLeft') next = TABS[(i + TABS.length - 1) % TABS.length];
    if (e.key === 'Home') next = TABS[0];
    if (e.key === 'End') next = TABS[TABS.length - 1];
    if (next) {
      e.preventDefault();
      onTab(next);
      tabRefs.current[next]?.focus();
    }
  }

  const ref = { project: project.slug, environment: environment.slug };
  return (
    <div className="page">
      <header className="page-header env-header">
        <div>
          <p className="eyebrow">{project.name}</p>
          <h1>{environment.name}</h1>
          <p className="page-meta">
            <span className="mono">
              {project.slug}/{environment.slug}
            </span>
            <span aria-hidden>·</span>
            <span>{plural(environment.secretCount, 'secret')}</span>
            <span aria-hidden>·</span>
            <span>{plural(live, 'active lease')}</span>
            <span aria-hidden>·</span>
            <span>
              {environment.policy ? `tokens last ${plainDuration(environment.policy.ttlSeconds)}` : 'no lease policy'}
            </span>
          </p>
        </div>
      </header>
      <div className="tabs" role="tablist" aria-label="Environment" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button
            key={t}
            ref={(el) => {
              tabRefs.current[t] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={t === tab}
            aria-controls={`panel-${t}`}
            tabIndex={t === tab ? 0 : -1}
            className={t === tab ? 'tab on' : 'tab'}
            onClick={() => onTab(t)}
          >
            <Icon name={TAB_INFO[t].icon} />
            <span>{TAB_INFO[t].label}</span>
            {t === 'secrets' && environment.secretCount > 0 && <span className="count">{environment.secretCount}</span>}
            {t === 'leases' && live > 0 && <span className="count">{live}</span>}
          </button>
        ))}
      </div>
      <section className="panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'secrets' && <SecretsView {...ref} />}
        {tab === 'leases' && <LeasesView project={project.slug} environment={environment} />}
        {tab === 'policy' && <PolicyView project={project.slug} environment={environment} />}
        {tab === 'audit' && <AuditView {...ref} />}
      </section>
    </div>
  );
}
