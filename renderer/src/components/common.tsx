import {
  useEffect,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type KeyboardEvent,
  type ReactElement,
  type ReactNode,
} from 'react';
import { Icon, type IconName } from './Icon';
import { errorText } from '../lib/bella';
import type { ActionState } from '../lib/action';

/** An error shown where it happened. */
export function ErrorNote({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (error === null || error === undefined) return null;
  return (
    <div className="note note-error" role="alert">
      <Icon name="alert" />
      <span>{errorText(error)}</span>
      {onDismiss && (
        <button type="button" className="icon-button small" onClick={onDismiss} aria-label="Dismiss">
          <Icon name="x" size={14} />
        </button>
      )}
    </div>
  );
}

/** A calm explanation of an empty place and what to do next. */
export function EmptyState({
  icon,
  title,
  children,
  action,
}: {
  icon: IconName;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty">
      <div className="empty-icon">
        <Icon name={icon} size={28} />
      </div>
      <h3>{title}</h3>
      {children && <p>{children}</p>}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

/** Copies text to the clipboard and says so for a moment. */
export function CopyButton({
  text,
  label = 'Copy',
  className = 'button',
  onError,
}: {
  text: string | (() => Promise<string>);
  label?: string;
  className?: string;
  onError?: (err: unknown) => void;
}) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <button
      type="button"
      className={className}
      aria-label={copied ? 'Copied' : label}
      title={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(typeof text === 'string' ? text : await text());
          setCopied(true);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => setCopied(false), 1600);
        } catch (err) {
          onError?.(err);
        }
      }}
    >
      <Icon name={copied ? 'check' : 'copy'} />
      {className.includes('icon-button') ? null : <span>{copied ? 'Copied' : label}</span>}
    </button>
  );
}

/** A labelled form field with an optional hint and error. */
export function Field({
  label,
  hint,
  error,
  children,
  htmlFor,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | null;
  children: ReactNode;
  htmlFor: string;
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {error ? (
        <p className="field-error" id={`${htmlFor}-error`}>
          {error}
        </p>
      ) : (
        hint && <p className="field-hint">{hint}</p>
      )}
    </div>
  );
}

/** A row of mutually exclusive options (radio group semantics: one tab stop, arrow keys move). */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: { value: T; label: string; count?: number }[];
  value: T;
  onChange: (v: T) => void;
}) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const current = Math.max(
    0,
    options.findIndex((o) => o.value === value),
  );
  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const step =
      e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
    if (!step) return;
    e.preventDefault();
    const next = (current + step + options.length) % options.length;
    onChange((options[next] as { value: T }).value);
    refs.current[next]?.focus();
  }
  return (
    <div className="segmented" role="radiogroup" aria-label={label} onKeyDown={onKeyDown}>
      {options.map((o, i) => (
        <button
          key={o.value}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          role="radio"
          aria-checked={o.value === value}
          tabIndex={i === current ? 0 : -1}
          className={o.value === value ? 'on' : ''}
          onClick={() => onChange(o.value)}
        >
          {o.label}
          {o.count !== undefined && <span className="count">{o.count}</span>}
        </button>
      ))}
    </div>
  );
}

/**
 * A button with an icon and a label (`className` as the stylesheet names them: `button primary`,
 * `button small danger-outline`, …; a `small` one has a smaller icon). `icon` may be any node, such as a spinner.
 */
export function Button({
  icon,
  label,
  className = 'button',
  ...rest
}: { icon: IconName | ReactElement; label: ReactNode } & Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'children'>) {
  const small = className.split(' ').includes('small');
  return (
    <button type="button" className={className} {...rest}>
      {typeof icon === 'string' ? <Icon name={icon} size={small ? 14 : undefined} /> : icon}
      <span>{label}</span>
    </button>
  );
}

/** A small spinner for work in progress. */
export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

/** A spinner in the middle of the place that is loading. */
export function Loading() {
  return (
    <div className="center-fill">
      <Spinner />
    </div>
  );
}

/** What a screen's actions said (useAction, lib/action.ts): the notice, then the action's error (dismissable) or else `loadError`. */
export function ActionNotes({ action, loadError }: { action: ActionState; loadError?: unknown }) {
  const n = action.notice;
  return (
    <>
      {n && (
        <div className={`note note-${n.tone}`} role={n.tone === 'error' ? 'alert' : 'status'}>
          <Icon name={n.tone === 'success' ? 'check' : 'alert'} />
          <span>{n.text}</span>
        </div>
      )}
      <ErrorNote error={action.error ?? loadError} onDismiss={action.error ? action.dismissError : undefined} />
    </>
  );
}

/** An on/off switch (a button with switch semantics), labelled for assistive technology. */
export function Switch({
  checked,
  onChange,
  label,
  disabled,
}: {
  checked: boolean;
  onChange: (next: boolean) => void;
  label: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      title={label}
      disabled={disabled}
      className={`switch${checked ? ' on' : ''}`}
      onClick={() => onChange(!checked)}
    >
      <span className="switch-knob" aria-hidden />
    </button>
  );
}

/** One term of a `<dl className="facts">` (or any definition list): `term`, then its value as children. */
export function Fact({
  term,
  termClassName,
  className,
  children,
}: {
  term: ReactNode;
  termClassName?: string;
  /** The class of the value (`mono`, `small`). */
  className?: string;
  children: ReactNode;
}) {
  return (
    <div>
      <dt className={termClassName}>{term}</dt>
      <dd className={className}>{children}</dd>
    </div>
  );
}

/** Words shown as monospace chips (addresses, certificate names). */
export function Chips({
  items,
  className = 'chips',
  testId,
}: {
  items: string[];
  className?: string;
  testId?: string;
}) {
  return (
    <ul className={className} data-testid={testId}>
      {items.map((item) => (
        <li key={item} className="chip mono">
          {item}
        </li>
      ))}
    </ul>
  );
}

/** A labelled select of a filter row (`mini-field`): the first option is the empty one, `any`. */
export function FilterSelect<T extends string>({
  id,
  label,
  value,
  onChange,
  any,
  options,
}: {
  id: string;
  label: string;
  value: T | '';
  onChange: (value: T | '') => void;
  /** The label of the empty option: `All events`, `Any`. */
  any: string;
  options: { value: T; label: string }[];
}) {
  return (
    <div className="mini-field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as T | '')}>
        <option value="">{any}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
