import type { ListenerStatus } from '../../../../daemon/api/routes';
import { plural } from '../../../../daemon/base/common/plural';
import { CopyButton } from '../../components/common';
import { SectionCard } from '../../components/Page';
import { formatDate } from '../../lib/format';

const DAY_MS = 86_400_000;

/** What a holder needs to connect (the server URLs and the fingerprint), and the certificate. */
export function ConnectionFacts({ status: s }: { status: ListenerStatus }) {
  const notAfter = s.notAfter ? Date.parse(s.notAfter) : null;
  const daysLeft = notAfter === null ? null : Math.floor((notAfter - Date.now()) / DAY_MS);
  return (
    <SectionCard
      id="listener-connect-heading"
      title={s.enabled ? 'How holders connect' : 'Certificate'}
      intro={
        s.enabled
          ? 'A holder sets these on their machine, with the token of their lease. The lease dialog shows them ready to paste.'
          : 'Kept while the listener is off: holders who pinned this fingerprint connect again when you turn it back on.'
      }
    >
      <dl className="facts listener-facts">
        {s.enabled && (
          <div>
            <dt className="env-name">BELLA_SERVER</dt>
            <dd>
              {s.urls.length === 0 ? (
                <span className="muted">No address to offer: the certificate names no address of this machine.</span>
              ) : (
                <ul className="copy-list" data-testid="listener-urls">
                  {s.urls.map((u, i) => (
                    <li key={u}>
                      <code className="mono">{u}</code>
                      {i === 0 && s.urls.length > 1 && <span className="badge muted">best</span>}
                      <CopyButton text={u} label={`Copy ${u}`} className="icon-button small" />
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        )}
        <div>
          <dt className="env-name">BELLA_SERVER_FINGERPRINT</dt>
          <dd>
            <div className="copy-list">
              <code className="mono fingerprint" data-testid="listener-fingerprint">
                {s.fingerprint}
              </code>
              <CopyButton text={s.fingerprint ?? ''} label="Copy fingerprint" className="icon-button small" />
            </div>
          </dd>
        </div>
        <div>
          <dt>Certificate</dt>
          <dd>
            <span>{s.certificate === 'own' ? 'From your own CA' : 'Self-signed, pinned by its fingerprint'}</span>
            {s.notAfter && (
              <>
                <span className="muted"> · expires </span>
                <time dateTime={s.notAfter}>{formatDate(s.notAfter)}</time>
                {daysLeft !== null && (
                  <span className={`badge ${daysLeft < 30 ? 'warn' : 'muted'} expiry-badge`}>
                    {daysLeft < 0 ? 'expired' : `in ${plural(daysLeft, 'day')}`}
                  </span>
                )}
              </>
            )}
            {s.names.length > 0 && (
              <ul className="chips names">
                {s.names.map((n) => (
                  <li key={n} className="chip mono">
                    {n}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        {s.enabled && (
          <div>
            <dt>Allowed from</dt>
            <dd>
              {s.allow.length === 0 ? (
                <span>Any address (every token is still checked)</span>
              ) : (
                <ul className="chips" data-testid="listener-allow">
                  {s.allow.map((a) => (
                    <li key={a} className="chip mono">
                      {a}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        )}
      </dl>
    </SectionCard>
  );
}
