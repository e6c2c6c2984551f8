import type { AuditVerification } from '../../../../daemon/api/routes';
import { plural } from '../../../../daemon/base/common/plural';
import { Spinner } from '../../components/common';
import { Icon } from '../../components/Icon';
import { formatDateTime } from '../../lib/format';

/** Where a verification of the hash chain is. */
export type Verify =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'done'; result: AuditVerification; at: string }
  | { state: 'error'; error: unknown };

/** The verify button, and the result of the last verification. */
export function ChainResult({ verify, onVerify }: { verify: Verify; onVerify: () => void }) {
  const button = (label: string) => (
    <button type="button" className="button small" onClick={onVerify} disabled={verify.state === 'running'}>
      <Icon name="shieldCheck" size={14} />
      <span>{label}</span>
    </button>
  );
  if (verify.state === 'running') {
    return (
      <span className="chain pending" role="status">
        <Spinner label="Verifying the hash chain" />
        <span>Verifying the whole trail…</span>
      </span>
    );
  }
  if (verify.state !== 'done') return button('Verify chain');
  const v = verify.result;
  const checked = `The whole trail, checked at ${formatDateTime(verify.at)}`;
  return (
    <>
      {v.ok ? (
        <span className="chain ok" role="status" title={checked}>
          <Icon name="shieldCheck" />
          <span>Hash chain verified · {plural(v.entries, 'entry', 'entries')}</span>
        </span>
      ) : (
        <span className="chain broken" title={checked}>
          <Icon name="shieldAlert" />
          <span>Chain broken</span>
        </span>
      )}
      {button('Verify again')}
    </>
  );
}

/** Where the chain breaks, when it does. */
export function BrokenChain({ result }: { result: AuditVerification }) {
  const b = result.firstBroken;
  return (
    <div className="note note-error chain-detail" role="alert" data-testid="chain-broken">
      <Icon name="shieldAlert" />
      <span>
        {b ? (
          <>
            The chain breaks at entry <strong>{b.seq ?? 'unknown'}</strong> in <code>{b.file}</code> at byte {b.offset}:{' '}
            {b.reason}. Entries from there on cannot be trusted; {plural(result.entries, 'entry', 'entries')} checked.
          </>
        ) : (
          <>The chain does not verify; {plural(result.entries, 'entry', 'entries')} checked.</>
        )}
      </span>
    </div>
  );
}
