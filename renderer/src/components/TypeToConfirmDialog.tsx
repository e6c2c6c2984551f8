import { useId, useState, type ReactNode } from 'react';
import { Dialog } from './Dialog';
import { ErrorNote, Field } from './common';

/** Props of {@link TypeToConfirmDialog}. */
export interface TypeToConfirmDialogProps {
  title: string;
  description?: ReactNode;
  /** What the person must type (a slug) before the action is allowed. */
  word: string;
  /** The label of the destructive button. */
  confirmLabel: string;
  onClose: () => void;
  /** Runs the action; a thrown error is shown in the dialog, which stays open. */
  action: () => Promise<void>;
  /** What will happen, shown above the confirmation field. */
  children?: ReactNode;
}

/** A destructive action behind a confirmation where the person types a slug. */
export function TypeToConfirmDialog({
  title,
  description,
  word,
  confirmLabel,
  onClose,
  action,
  children,
}: TypeToConfirmDialogProps) {
  const inputId = useId();
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ok = typed.trim() === word;
  return (
    <Dialog
      tone="danger"
      title={title}
      description={description}
      onClose={onClose}
      onSubmit={async () => {
        if (!ok) return;
        setBusy(true);
        try {
          await action();
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button danger" disabled={!ok || busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      {children}
      <Field
        label={
          <>
            Type <code className="confirm-word">{word}</code> to confirm
          </>
        }
        htmlFor={inputId}
      >
        <input
          id={inputId}
          className="mono"
          autoFocus
          autoComplete="off"
          spellCheck={false}
          placeholder={word}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
        />
      </Field>
      <ErrorNote error={error} />
    </Dialog>
  );
}
