import { Field } from '../../components/common';

/** A duration typed in the CLI's words (`24h`, `1h30m`), with buttons for the usual values. */
export function DurationField({
  id,
  label,
  hint,
  presetsLabel,
  presets,
  value,
  error,
  onChange,
}: {
  id: string;
  label: string;
  hint: string;
  /** Names the row of preset buttons for assistive technology. */
  presetsLabel: string;
  presets: string[];
  value: string;
  error: string | null;
  onChange: (value: string) => void;
}) {
  return (
    <Field label={label} htmlFor={id} error={error} hint={hint}>
      <input id={id} className="mono" value={value} aria-invalid={!!error} onChange={(e) => onChange(e.target.value)} />
      <div className="preset-row" role="group" aria-label={presetsLabel}>
        {presets.map((p) => (
          <button
            key={p}
            type="button"
            className={`chip-button${value === p ? ' on' : ''}`}
            onClick={() => onChange(p)}
            aria-pressed={value === p}
          >
            {p}
          </button>
        ))}
      </div>
    </Field>
  );
}
