import { useState } from 'react';
import type { Lease } from '../../../../daemon/api/types';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import { useDaemonEvent } from '../../lib/events';
import { formatCountdown } from '../../lib/format';
import { useNow } from '../../lib/now';
import { Button, ErrorNote } from '../../components/common';
import { useAction } from '../../lib/action';

/**
 * Active leases inside their environment's warning window (or that the daemon warned about),
 * each with a one-click renew.
 */
export function ExpiringBanner({ onOpen }: { onOpen: (project: string, environment: string) => void }) {
  const { activeLeases, environments, reload } = useAppData();
  const now = useNow();
  const [warned, setWarned] = useState<Set<string>>(new Set());
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const action = useAction();

  useDaemonEvent((e) => {
    if (e.type === 'LeaseExpiringSoon') setWarned((w) => new Set([...w, ...e.leaseIds]));
    if (e.type === 'LeaseRenewed') setWarned((w) => new Set([...w].filter((id) => !e.leaseIds.includes(id))));
  });

  function warnBefore(l: Lease): number | undefined {
    return environments[l.project]?.find((e) => e.slug === l.environment)?.policy?.warnBeforeSeconds;
  }

  const expiring = activeLeases
    .filter((l) => {
      const left = Date.parse(l.expiresAt) - now;
      if (left <= 0 || dismissed.has(`${l.id}@${l.expiresAt}`)) return false;
      if (warned.has(l.id)) return true;
      const wb = warnBefore(l);
      // Same rule as the daemon: a lease whose whole life is shorter than the warning is not warned about.
      const life = Date.parse(l.expiresAt) - Date.parse(l.issuedAt);
      return wb !== undefined && left <= wb * 1000 && life > wb * 1000;
    })
    .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));

  if (expiring.length === 0) return null;

  const renew = (l: Lease) =>
    action.run(l.id, async () => {
      await bella().renewLease({ id: l.id });
      setWarned((w) => new Set([...w].filter((id) => id !== l.id)));
      reload();
    });

  const first = expiring.slice(0, 3);
  return (
    <section className="banner" aria-label="Leases expiring soon" role="region">
      <div className="banner-icon">
        <Icon name="clock" size={18} />
      </div>
      <div className="banner-body">
        <h2>{expiring.length === 1 ? 'A lease expires soon' : `${expiring.length} leases expire soon`}</h2>
        <ul>
          {first.map((l) => (
            <li key={l.id}>
              <span className="banner-text">
                <strong>{l.reason}</strong>
                <button type="button" className="link mono small" onClick={() => onOpen(l.project, l.environment)}>
                  {l.project}/{l.environment}
                </button>
              </span>
              <span className="banner-when">
                expires in{' '}
                <time className="countdown soon" dateTime={l.expiresAt}>
                  {formatCountdown(Date.parse(l.expiresAt) - now)}
                </time>
              </span>
              <span className="banner-actions">
                <Button
                  className="button small primary"
                  icon="refresh"
                  label="Renew"
                  disabled={action.busy === l.id}
                  onClick={() => void renew(l)}
                  aria-label={`Renew ${l.reason}`}
                />
                <button
                  type="button"
                  className="icon-button small"
                  aria-label={`Dismiss warning for ${l.reason}`}
                  title="Dismiss"
                  onClick={() => setDismissed((d) => new Set([...d, `${l.id}@${l.expiresAt}`]))}
                >
                  <Icon name="x" size={14} />
                </button>
              </span>
            </li>
          ))}
        </ul>
        {expiring.length > first.length && <p className="muted">and {expiring.length - first.length} more</p>}
        <ErrorNote error={action.error} />
      </div>
    </section>
  );
}
