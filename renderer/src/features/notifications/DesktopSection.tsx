import { useEffect, useState } from 'react';
import type { NotificationHealth, NotificationSettings } from '../../../../daemon/api/routes';
import type { Environment, Project } from '../../../../daemon/api/types';
import { Button, EmptyState, ErrorNote, Loading, Switch } from '../../components/common';
import { Icon } from '../../components/Icon';
import { SectionCard } from '../../components/Page';
import { Table } from '../../components/Table';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useAppData, useLoad } from '../../lib/data';
import { plainDuration } from '../../lib/format';

function healthText(h: NotificationHealth): { text: string; tone: 'good' | 'bad' | 'muted' } {
  if (h.available === null) return { text: 'Not tried yet: send a test to check.', tone: 'muted' };
  if (h.available) return { text: 'The last notification reached the desktop.', tone: 'good' };
  return { text: h.problem ?? 'Notifications cannot be shown on this machine.', tone: 'bad' };
}

/** Desktop notifications: on or off everywhere and per environment, when each is warned, and a test. */
export function DesktopSection({
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
  const action = useAction();
  const busy = action.busy !== null;
  const [test, setTest] = useState<{ sent: boolean; problem: string | null } | null>(null);
  // What the daemon said last wins: a fresh load replaces the answer of the last change.
  useEffect(() => setSettings(null), [load.data]);
  const shown = settings ?? load.data?.settings ?? null;
  const health = load.data?.health;

  const set = (desktop: boolean, where?: { project: string; environment: string }) =>
    action.run(where ? `${where.project}/${where.environment}` : '*', async () => {
      setSettings((await bella().setNotificationSettings({ desktop, ...where })).settings);
    });

  const sendTest = () =>
    action.run('test', async () => {
      setTest(await bella().testNotification({}));
      setLocalRev((r) => r + 1);
    });

  const envRows = projects.flatMap((p) => (environments[p.slug] ?? []).map((e) => ({ project: p, env: e })));
  const h = health ? healthText(health) : null;
  return (
    <SectionCard
      id="desktop-heading"
      title="Desktop notifications"
      intro="A notification when leases enter their warning window, grouped when several cross together."
      actions={
        <Button
          className="button small"
          icon="bell"
          label="Send a test"
          onClick={() => void sendTest()}
          disabled={busy}
        />
      }
    >
      {!shown ? (
        load.loading ? (
          <Loading />
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
              disabled={busy}
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
          <ErrorNote error={action.error} onDismiss={action.dismissError} />
          {envRows.length === 0 ? (
            <EmptyState icon="layers" title="No environments yet">
              Each environment gets its own setting once it exists.
            </EmptyState>
          ) : (
            <Table className="env-notify-table" columns={['Environment', 'Warned', 'Desktop']} inner>
              {envRows.map(({ project, env }) => (
                <EnvironmentSetting
                  key={`${project.slug}/${env.slug}`}
                  project={project}
                  environment={env}
                  settings={shown}
                  busy={busy}
                  onSet={(on) => void set(on, { project: project.slug, environment: env.slug })}
                  onOpenPolicy={() => onOpenPolicy(project.slug, env.slug)}
                />
              ))}
            </Table>
          )}
        </>
      )}
    </SectionCard>
  );
}

/** One environment's desktop setting: when it is warned (or why never), and its switch. */
function EnvironmentSetting({
  project,
  environment,
  settings,
  busy,
  onSet,
  onOpenPolicy,
}: {
  project: Project;
  environment: Environment;
  settings: NotificationSettings;
  busy: boolean;
  onSet: (on: boolean) => void;
  onOpenPolicy: () => void;
}) {
  const id = `${project.slug}/${environment.slug}`;
  const own = settings.environments[id];
  const on = own ?? settings.desktop;
  return (
    <tr data-env={id}>
      <td>
        <strong>
          {project.name} · {environment.name}
        </strong>
        <span className="mono muted small block">{id}</span>
      </td>
      <td>
        {environment.policy ? (
          <span>{plainDuration(environment.policy.warnBeforeSeconds)} before a lease expires</span>
        ) : (
          <span className="muted">
            Never: no lease policy.{' '}
            <button type="button" className="link" onClick={onOpenPolicy}>
              Set one
            </button>
          </span>
        )}
      </td>
      <td className="switch-cell">
        <Switch checked={on} disabled={busy} label={`Desktop notifications for ${id}`} onChange={onSet} />
        <span className="muted small">{own === undefined ? 'as everywhere' : 'set here'}</span>
      </td>
    </tr>
  );
}
