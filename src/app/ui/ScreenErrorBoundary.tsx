import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Catches an exception thrown while a screen renders (a bug, or a screen's code that failed to load after an
 * update) and shows a clear message with a way out, instead of a blank app. The shell keys it by screen, so
 * going to another screen starts afresh.
 */
export class ScreenErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error('Facies: a screen failed', error, info.componentStack);
  }

  override render() {
    return this.state.error ? <ScreenFailed error={this.state.error} /> : this.props.children;
  }
}

function ScreenFailed({ error }: { error: Error }) {
  const { t } = useTranslation();
  return (
    <div className="error screen-error" role="alert" data-testid="screen-error">
      <h2>{t('screenError.title')}</h2>
      <p>{t('screenError.body')}</p>
      <p className="hint">{t('screenError.details', { message: error.message })}</p>
      <button type="button" onClick={() => location.reload()} data-testid="screen-error-reload">
        {t('screenError.reload')}
      </button>
    </div>
  );
}
