// @vitest-environment happy-dom
// A screen that throws while rendering shows the translated message with a Reload button, not a blank app.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import i18n from '../../src/i18n';
import { ScreenErrorBoundary } from '../../src/app/ui/ScreenErrorBoundary';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function Broken(): never {
  throw new Error('records index unreadable');
}

let root: Root | null = null;
afterEach(() => {
  act(() => root?.unmount());
  root = null;
  document.body.innerHTML = '';
  vi.restoreAllMocks();
});

async function render(child: ReturnType<typeof createElement>) {
  const host = document.createElement('div');
  document.body.append(host);
  root = createRoot(host);
  await act(async () => root!.render(createElement(ScreenErrorBoundary, null, child)));
  return host;
}

describe('ScreenErrorBoundary', () => {
  it('renders a working screen unchanged', async () => {
    const host = await render(createElement('p', { 'data-testid': 'fine' }, 'ok'));
    expect(host.querySelector('[data-testid="fine"]')?.textContent).toBe('ok');
    expect(host.querySelector('[role="alert"]')).toBeNull();
  });

  for (const lng of ['en', 'zh-CN'] as const) {
    it(`shows the error and a Reload button when the screen throws (${lng})`, async () => {
      vi.spyOn(console, 'error').mockImplementation(() => undefined); // React and the boundary report the error
      await i18n.changeLanguage(lng);
      const host = await render(createElement(Broken));
      const alert = host.querySelector('[role="alert"]');
      expect(alert).not.toBeNull();
      expect(alert!.querySelector('h2')!.textContent).toBe(i18n.t('screenError.title'));
      expect(alert!.textContent).toContain('records index unreadable');
      const reload = alert!.querySelector('button')!;
      expect(reload.textContent).toBe(lng === 'en' ? 'Reload' : '重新加载');
      expect(console.error).toHaveBeenCalled();
    });
  }
});
