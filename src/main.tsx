// First: the network guard, before any other module runs.
import './privacy/install-guard';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './i18n';
import { App } from './app/App';
import './app/app.css';
import { registerServiceWorker } from './sw/register';

registerServiceWorker();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
