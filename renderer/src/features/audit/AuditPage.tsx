import { PageHeader } from '../../components/Page';
import { AuditView } from './AuditView';

/** The whole daemon's audit trail: every project, and what belongs to none (listener, channels, refusals). */
export function AuditPage() {
  return (
    <div className="page">
      <PageHeader
        eyebrow="This daemon"
        title="Audit trail"
        meta={
          <span>
            Every project and environment, and what belongs to none: the listener, notification channels and refused
            tokens.
          </span>
        }
      />
      <AuditView />
    </div>
  );
}
