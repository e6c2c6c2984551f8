import type { Secret } from '../../../../daemon/api/types';
import { CopyButton, ErrorNote } from '../../components/common';
import { Icon } from '../../components/Icon';
import { formatRelative } from '../../lib/format';

/** One secret in the secrets table: its key, its value masked (or `value` when revealed), and its buttons. */
export function SecretRow({
  secret: s,
  now,
  value,
  error,
  onDismissError,
  onToggle,
  readValue,
  onCopyError,
  onEdit,
  onHistory,
  onDelete,
}: {
  secret: Secret;
  now: number;
  /** The value, while it is revealed. */
  value: string | undefined;
  /** What the last reveal or copy of this row threw. */
  error: unknown;
  onDismissError: () => void;
  onToggle: () => void;
  readValue: () => Promise<string>;
  onCopyError: (err: unknown) => void;
  onEdit: () => void;
  onHistory: () => void;
  onDelete: () => void;
}) {
  const shown = value !== undefined;
  return (
    <tr data-key={s.key}>
      <td className="mono key-cell">{s.key}</td>
      <td className="value-cell">
        <button
          type="button"
          className={`secret-value${shown ? ' revealed' : ''}`}
          onClick={onToggle}
          aria-label={shown ? `Hide ${s.key}` : `Reveal ${s.key}`}
          title={shown ? 'Click to hide' : 'Click to reveal'}
        >
          {shown ? (
            <span className="mono">{value === '' ? '(empty)' : value}</span>
          ) : (
            <span className="mask" aria-hidden>
              ••••••••••••
            </span>
          )}
        </button>
        {error ? <ErrorNote error={error} onDismiss={onDismissError} /> : null}
      </td>
      <td className="muted nowrap">{formatRelative(s.updatedAt, now)}</td>
      <td className="row-actions">
        <RowIconButton
          icon={shown ? 'eyeOff' : 'eye'}
          label={shown ? `Hide ${s.key}` : `Reveal ${s.key}`}
          title={shown ? 'Hide' : 'Reveal'}
          onClick={onToggle}
        />
        <CopyButton className="icon-button" label={`Copy ${s.key}`} text={readValue} onError={onCopyError} />
        <RowIconButton icon="edit" label={`Edit ${s.key}`} title="Edit" onClick={onEdit} />
        <RowIconButton icon="clock" label={`History of ${s.key}`} title="History" onClick={onHistory} />
        <RowIconButton icon="trash" label={`Delete ${s.key}`} title="Delete" onClick={onDelete} danger />
      </td>
    </tr>
  );
}

function RowIconButton({
  icon,
  label,
  title,
  onClick,
  danger = false,
}: {
  icon: 'eye' | 'eyeOff' | 'edit' | 'clock' | 'trash';
  label: string;
  title: string;
  onClick: () => void;
  danger?: boolean;
}) {
  return (
    <button
      type="button"
      className={`icon-button${danger ? ' danger' : ''}`}
      aria-label={label}
      title={title}
      onClick={onClick}
    >
      <Icon name={icon} />
    </button>
  );
}
