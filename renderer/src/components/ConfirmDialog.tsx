import { useState, type ReactNode } from 'react';
import { Dialog, DialogActions } from './Dialog';
import { ErrorNote } from './common';

/** Props of {@link ConfirmDialog}. */
export interface ConfirmDialogProps {
  title: string;
  description?: ReactNode;
  /** The label of the destructive button. */
  confirmLabel: string;
  onClose: () => void;
  /** Runs the action; a thrown error is shown in the dialog, which stays open. */
  action: () => Promise<void>;
  /** False keeps the button disabled (e.g. until a confirmation is typed). */
  ready?: boolean;
  /** Focus Cancel when the dialog opens (when the body has no field to focus). */
  focusCancel?: boolean;
  /** What will happen, and any fields, above the error. */
  children?: ReactNode;
}

/** A destructive action behind a confirmation: Cancel, or the action, which shows its error. */
export function ConfirmDialog({
  title,
  description,
  confirmLabel,
  onClose,
  action,
  ready = true,
  focusCancel = false,
  children,
}: ConfirmDialogProps) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      tone="danger"
      title={title}
      description={description}
      onClose={onClose}
      onSubmit={async () => {
        if (!ready) return;
        setBusy(true);
        try {
          await action();
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
      footer={
        <DialogActions
          onCancel={onClose}
          label={confirmLabel}
          disabled={!ready || busy}
          tone="danger"
          focusCancel={focusCancel}
        />
      }
    >
      {children}
      <ErrorNote error={error} />
    </Dialog>
  );
}
