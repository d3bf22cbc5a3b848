import type { ReactNode } from 'react';

/** The frame every settings section uses: a titled card with an optional one-line explanation. */
export function SettingsSection({ id, title, description, children }: { id: string; title: string; description?: string; children: ReactNode }) {
  return (
    <section className="settings-section" aria-labelledby={`settings-${id}-title`} data-testid={`settings-${id}`}>
      <h3 id={`settings-${id}-title`}>{title}</h3>
      {description && <p className="hint">{description}</p>}
      {children}
    </section>
  );
}

/** A radio group styled as large touch targets: one option per choice, the current one checked. */
export function Choice<T extends string>({
  name,
  legend,
  value,
  options,
  onChange,
}: {
  name: string;
  legend: string;
  value: T;
  options: readonly { value: T; label: string; lang?: string }[];
  onChange: (value: T) => void;
}) {
  return (
    <fieldset className="choice">
      <legend className="visually-hidden">{legend}</legend>
      {options.map((o) => (
        <label key={o.value} className="choice-option" lang={o.lang}>
          <input type="radio" name={name} value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} data-testid={`${name}-${o.value}`} />
          <span>{o.label}</span>
        </label>
      ))}
    </fieldset>
  );
}
