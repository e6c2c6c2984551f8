import type { ReactNode } from 'react';
import { useAction } from '../lib/action';
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
  const run = useAction();
  return (
    <Dialog
      tone="danger"
      title={title}
      description={description}
      onClose={onClose}
      onSubmit={() => void (ready && run.run('confirm', action))}
      footer={
        <DialogActions
          onCancel={onClose}
          label={confirmLabel}
          disabled={!ready || run.busy !== null}
          tone="danger"
          focusCancel={focusCancel}
        />
      }
    >
      {children}
      <ErrorNote error={run.error} />
    </Dialog>
  );
}
