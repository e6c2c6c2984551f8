import { cliInstallLine } from '../../../../daemon/api/handover';
import type { ListenerStatus } from '../../../../daemon/api/routes';
import { plural } from '../../../../daemon/base/common/plural';
import { Chips, CopyButton, Fact } from '../../components/common';
import { SectionCard } from '../../components/Page';
import { formatDate } from '../../lib/format';

const DAY_MS = 86_400_000;

/** What a holder needs to connect (the server URLs and the fingerprint), and the certificate. */
export function ConnectionFacts({ status: s }: { status: ListenerStatus }) {
  const notAfter = s.notAfter ? Date.parse(s.notAfter) : null;
  const daysLeft = notAfter === null ? null : Math.floor((notAfter - Date.now()) / DAY_MS);
  // The one-line install (curl pinned to the listener's public key), as the hand-over lines give it.
  const install = s.enabled && s.urls[0] && s.pinnedPublicKey ? cliInstallLine(s.urls[0], s.pinnedPublicKey) : null;
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
          <Fact term="BELLA_SERVER" termClassName="env-name">
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
          </Fact>
        )}
        <Fact term="BELLA_SERVER_FINGERPRINT" termClassName="env-name">
          <div className="copy-list">
            <code className="mono fingerprint" data-testid="listener-fingerprint">
              {s.fingerprint}
            </code>
            <CopyButton text={s.fingerprint ?? ''} label="Copy fingerprint" className="icon-button small" />
          </div>
        </Fact>
        {install && (
          <Fact term="Install the CLI">
            <div className="copy-list">
              <code className="mono break-all" data-testid="listener-install">
                {install}
              </code>
              <CopyButton text={install} label="Copy install line" className="icon-button small" />
            </div>
            <span className="muted small">Needs only Node 20+ and curl; then run it as node bella.mjs.</span>
          </Fact>
        )}
        <Fact term="Certificate">
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
          {s.names.length > 0 && <Chips items={s.names} className="chips names" />}
        </Fact>
        {s.enabled && (
          <Fact term="Allowed from">
            {s.allow.length === 0 ? (
              <span>Any address (every token is still checked)</span>
            ) : (
              <Chips items={s.allow} testId="listener-allow" />
            )}
          </Fact>
        )}
      </dl>
    </SectionCard>
  );
}
