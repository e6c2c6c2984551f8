import type { ReactNode } from 'react';
import { CopyButton } from './common';
import { Dialog } from './Dialog';
import { Icon } from './Icon';

/** Props of {@link ShownOnce}. */
export interface ShownOnceProps {
  /** `token`, `signing secret`. */
  what: string;
  value: string;
  explanation: string;
  copyLabel: string;
  testId?: string;
  onCopy?: () => void;
}

/**
 * A credential shown exactly once (a lease token, a webhook signing secret): the warning that it
 * will not be shown again, the value, and a copy button. `onCopy` runs when the copy button is pressed.
 */
export function ShownOnce({ what, value, explanation, copyLabel, testId, onCopy }: ShownOnceProps) {
  return (
    <>
      <div className="once-warning" role="note">
        <Icon name="eyeOff" size={18} />
        <div>
          <strong>Copy this {what} now — you will not see it again.</strong>
          <span>{explanation}</span>
        </div>
      </div>
      <div className="token-box">
        <code className="token" data-testid={testId} aria-label={what.charAt(0).toUpperCase() + what.slice(1)}>
          {value}
        </code>
        <span onClickCapture={onCopy}>
          <CopyButton text={value} label={copyLabel} className="button primary" />
        </span>
      </div>
    </>
  );
}

/**
 * A dialog around {@link ShownOnce}: it closes with "I have saved the …" (`savedLabel`), which
 * reads Done once the credential was copied. `copied` is the caller's, who may count other copies.
 */
export function ShownOnceDialog({
  title,
  description,
  savedLabel,
  copied,
  onClose,
  shown,
  children,
}: {
  title: string;
  description: string;
  savedLabel: string;
  copied: boolean;
  onClose: () => void;
  shown: ShownOnceProps;
  children?: ReactNode;
}) {
  return (
    <Dialog
      wide
      title={title}
      description={description}
      onClose={onClose}
      footer={
        <button type="button" className="button primary" onClick={onClose}>
          {copied ? 'Done' : savedLabel}
        </button>
      }
    >
      <ShownOnce {...shown} />
      {children}
    </Dialog>
  );
}
