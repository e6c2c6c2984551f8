import { AuditView } from './AuditView';

/** The whole daemon's audit trail: every project, and what belongs to none (listener, channels, refusals). */
export function AuditPage() {
  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className="eyebrow">This daemon</p>
          <h1>Audit trail</h1>
          <p className="page-meta">
            <span>
              Every project and environment, and what belongs to none: the listener, notification channels and refused
              tokens.
            </span>
          </p>
        </div>
      </header>
      <AuditView />
    </div>
  );
}
