// A labelled passphrase input: "new" for one being set (the browser may offer to generate and save it),
// "current" for one being typed to unlock or to prove who is changing it.
export function PassphraseField({
  label,
  value,
  onChange,
  kind,
  testId,
  autoFocus,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  kind: 'new' | 'current';
  testId: string;
  autoFocus?: boolean;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="password"
        autoComplete={kind === 'new' ? 'new-password' : 'current-password'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        data-testid={testId}
        autoFocus={autoFocus}
      />
    </label>
  );
}
