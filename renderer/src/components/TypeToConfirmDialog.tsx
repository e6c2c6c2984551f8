import { useId, useState, type ReactNode } from 'react';
import { ConfirmDialog } from './ConfirmDialog';
import { Field } from './common';

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
export function TypeToConfirmDialog({ word, children, ...props }: TypeToConfirmDialogProps) {
  const inputId = useId();
  const [typed, setTyped] = useState('');
  return (
    <ConfirmDialog {...props} ready={typed.trim() === word}>
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
    </ConfirmDialog>
  );
}
