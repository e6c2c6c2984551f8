import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Icon } from './Icon';

/** Props of {@link Dialog}. */
export interface DialogProps {
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  /** Wraps body and footer in a form whose submit calls this. */
  onSubmit?: () => void;
  tone?: 'default' | 'danger';
  wide?: boolean;
}

/** A modal dialog on the native <dialog>: focus stays inside, Escape closes, focus returns after. */
export function Dialog({ title, description, onClose, children, footer, onSubmit, tone, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  useEffect(() => {
    const d = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => {
      d?.close();
      opener?.focus?.();
    };
  }, []);
  const content = (
    <>
      <div className="dialog-body">{children}</div>
      {footer && <div className="dialog-footer">{footer}</div>}
    </>
  );
  return (
    <dialog
      ref={ref}
      className={`dialog${tone === 'danger' ? ' dialog-danger' : ''}${wide ? ' dialog-wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <div>
          <h2 id={titleId}>{title}</h2>
          {description && (
            <p id={descId} className="dialog-description">
              {description}
            </p>
          )}
        </div>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
          <Icon name="x" />
        </button>
      </header>
      {onSubmit ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit();
          }}
        >
          {content}
        </form>
      ) : (
        content
      )}
    </dialog>
  );
}

/** Props of {@link DialogActions}. */
export interface DialogActionsProps {
  onCancel: () => void;
  /** The submit button's label. */
  label: ReactNode;
  disabled?: boolean;
  tone?: 'primary' | 'danger';
  /** Focus Cancel when the dialog opens (when the body has no field to focus). */
  focusCancel?: boolean;
}

/** The footer of a form dialog: Cancel, and the button that submits it. */
export function DialogActions({
  onCancel,
  label,
  disabled,
  tone = 'primary',
  focusCancel = false,
}: DialogActionsProps) {
  return (
    <>
      <button type="button" className="button" onClick={onCancel} autoFocus={focusCancel}>
        Cancel
      </button>
      <button type="submit" className={`button ${tone}`} disabled={disabled}>
        {label}
      </button>
    </>
  );
}
