import { useEffect, useState } from 'react';
import type { NotificationHealth, NotificationSettings } from '../../../../daemon/api/routes';
import { EmptyState, ErrorNote, Spinner, Switch } from '../../components/common';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useAppData, useLoad } from '../../lib/data';
import { useRevision } from '../../lib/events';
import { plainDuration } from '../../lib/format';
import { ChannelsSection } from './ChannelsSection';
import { DeliveriesSection } from './DeliveriesSection';
import './notifications.css';

/** Notifications: desktop warnings per environment, channels (webhook, Slack, Discord), and the delivery log. */
export function NotificationsView({ onOpenPolicy }: { onOpenPolicy: (project: string, environment: string) => void }) {
  // Channels report every attempt and health change as DataChanged(notifications); a resync names nothing.
  const rev = useRevision(
    (e) => e.type === 'DataChanged' && (e.resource === 'notifications' || e.project === undefined),
  );
  const [localRev, setLocalRev] = useState(0);
  const refresh = () => setLocalRev((r) => r + 1);
  const channels = useLoad(() => bella().listChannels({}), [rev, localRev]);
  return (
    <div className="page notifications-page">
      <header className="page-header">
        <div>
          <p className="eyebrow">This daemon</p>
          <h1>Notifications</h1>
          <p className="page-meta">
            <span>
              The daemon warns before leases expire and tells your channels what happens, whether or not this window is
              open.
            </span>
          </p>
        </div>
      </header>
      <DesktopSection rev={rev} onOpenPolicy={onOpenPolicy} />
      <ChannelsSection channels={channels} onChanged={refresh} />
      <DeliveriesSection channels={channels.data?.channels ?? []} rev={rev + localRev} onChanged={refresh} />
    </div>
  );
}

function healthText(h: NotificationHealth): { text: string; tone: 'good' | 'bad' | 'muted' } {
  if (h.available === null) return { text: 'Not tried yet: send a test to check.', tone: 'muted' };
  if (h.available) return { text: 'The last notification reached the desktop.', tone: 'good' };
  return { text: h.problem ?? 'Notifications cannot be shown on this machine.', tone: 'bad' };
}

function DesktopSection({
  rev,
  onOpenPolicy,
}: {
  rev: number;
  onOpenPolicy: (project: string, environment: string) => void;
}) {
  const { projects, environments } = useAppData();
  const [localRev, setLocalRev] = useState(0);
  const load = useLoad(() => bella().getNotificationSettings({}), [rev, localRev]);
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [test, setTest] = useState<{ sent: boolean; problem: string | null } | null>(null);
  // What the daemon said last wins: a fresh load replaces the answer of the last change.
  useEffect(() => setSettings(null), [load.data]);
  const shown = settings ?? load.data?.settings ?? null;
  const health = load.data?.health;

  async function set(desktop: boolean, where?: { project: string; environment: string }) {
    const id = where ? `${where.project}/${where.environment}` : '*';
    setBusy(id);
    setError(null);
    try {
      const r = await bella().setNotificationSettings({ desktop, ...where });
      setSettings(r.settings);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  async function sendTest() {
    setBusy('test');
    setError(null);
    try {
      setTest(await bella().testNotification({}));
      setLocalRev((r) => r + 1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  const envRows = projects.flatMap((p) => (environments[p.slug] ?? []).map((e) => ({ project: p, env: e })));
  const h = health ? healthText(health) : null;
  return (
    <section className="section-card" aria-labelledby="desktop-heading">
      <div className="section-head">
        <div>
          <h2 id="desktop-heading">Desktop notifications</h2>
          <p className="muted">
            A notification when leases enter their warning window, grouped when several cross together.
          </p>
        </div>
        <div className="section-actions">
          <button type="button" className="button small" onClick={sendTest} disabled={busy !== null}>
            <Icon name="bell" size={14} />
            <span>Send a test</span>
          </button>
        </div>
      </div>
      {!shown ? (
        load.loading ? (
          <div className="center-fill">
            <Spinner />
          </div>
        ) : (
          <ErrorNote error={load.error} />
        )
      ) : (
        <>
          <div className="setting-row">
            <div>
              <strong id="desktop-all-label">Everywhere</strong>
              <p className="muted small">The default for every environment that has no setting of its own.</p>
            </div>
            <Switch
              checked={shown.desktop}
              disabled={busy !== null}
              label="Desktop notifications everywhere"
              onChange={(v) => void set(v)}
            />
          </div>
          {h && (
            <p className={`health-line ${h.tone}`} data-testid="desktop-health">
              <span className={`status-dot${h.tone === 'bad' ? ' offline' : h.tone === 'muted' ? ' idle' : ''}`} />
              <span>{h.text}</span>
            </p>
          )}
          {test && (
            <div className={`note ${test.sent ? 'note-success' : 'note-error'}`} role="status">
              <Icon name={test.sent ? 'check' : 'alert'} />
              <span>
                {test.sent
                  ? 'Test notification sent: it should be on your desktop now.'
                  : `The test notification was not shown: ${test.problem ?? 'no reason given'}.`}
              </span>
            </div>
          )}
          <ErrorNote error={error} />
          {envRows.length === 0 ? (
            <EmptyState icon="layers" title="No environments yet">
              Each environment gets its own setting once it exists.
            </EmptyState>
          ) : (
            <div className="table-wrap inner">
              <table className="table env-notify-table">
                <thead>
                  <tr>
                    <th scope="col">Environment</th>
                    <th scope="col">Warned</th>
                    <th scope="col">Desktop</th>
                  </tr>
                </thead>
                <tbody>
                  {envRows.map(({ project, env }) => {
                    const id = `${project.slug}/${env.slug}`;
                    const own = shown.environments[id];
                    const on = own ?? shown.desktop;
                    return (
                      <tr key={id} data-env={id}>
                        <td>
                          <strong>
                            {project.name} · {env.name}
                          </strong>
                          <span className="mono muted small block">{id}</span>
                        </td>
                        <td>
                          {env.policy ? (
                            <span>{plainDuration(env.policy.warnBeforeSeconds)} before a lease expires</span>
                          ) : (
                            <span className="muted">
                              Never: no lease policy.{' '}
                              <button
                                type="button"
                                className="link"
                                onClick={() => onOpenPolicy(project.slug, env.slug)}
                              >
                                Set one
                              </button>
                            </span>
                          )}
                        </td>
                        <td className="switch-cell">
                          <Switch
                            checked={on}
                            disabled={busy !== null}
                            label={`Desktop notifications for ${id}`}
                            onChange={(v) => void set(v, { project: project.slug, environment: env.slug })}
                          />
                          <span className="muted small">{own === undefined ? 'as everywhere' : 'set here'}</span>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
