import { useState } from 'react';
import { PageHeader } from '../../components/Page';
import { bella } from '../../lib/bella';
import { useLoad } from '../../lib/data';
import { useRevision } from '../../lib/events';
import { ChannelsSection } from './ChannelsSection';
import { DeliveriesSection } from './DeliveriesSection';
import { DesktopSection } from './DesktopSection';
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
      <PageHeader
        eyebrow="This daemon"
        title="Notifications"
        meta={
          <span>
            The daemon warns before leases expire and tells your channels what happens, whether or not this window is
            open.
          </span>
        }
      />
      <DesktopSection rev={rev} onOpenPolicy={onOpenPolicy} />
      <ChannelsSection channels={channels} onChanged={refresh} />
      <DeliveriesSection channels={channels.data?.channels ?? []} rev={rev + localRev} onChanged={refresh} />
    </div>
  );
}
