// Registers the service worker (sw/service-worker.js, built into dist/sw.js) in
// production builds and offers a reload when a new version has been deployed:
// the new worker installs beside the running one and waits; "Reload" tells it to
// take over, and the page reloads once it controls the page. Checks for a new
// version when the tab comes back to the front and every 30 minutes.
import { t } from '../i18n';
import { h } from '../util/dom';

const CHECK_EVERY_MS = 30 * 60_000;

export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  // A page that was controlled before and gets a new controller was told to update.
  const hadController = !!navigator.serviceWorker.controller;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController || reloading) return;
    reloading = true;
    location.reload();
  });
  const start = () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(watch, () => {
      // No worker (private mode, blocked by policy): the client works online as before.
    });
  };
  if (document.readyState === 'complete') start();
  else window.addEventListener('load', start, { once: true });
}

function watch(reg: ServiceWorkerRegistration): void {
  const offer = (worker: ServiceWorker | null) => {
    if (worker && navigator.serviceWorker.controller) showUpdatePrompt(worker);
  };
  offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  const check = () => void reg.update().catch(() => undefined);
  setInterval(check, CHECK_EVERY_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') check();
  });
}

let prompt: HTMLElement | null = null;

/** A bar at the bottom (not a dialog: it does not take the focus from what the user is doing). */
function showUpdatePrompt(worker: ServiceWorker): void {
  prompt?.remove();
  const reload = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onClick: () => {
        reload.disabled = true;
        worker.postMessage({ type: 'skip-waiting' });
      },
    },
    t('pwa.reload'),
  );
  prompt = h(
    'div',
    { class: 'update-prompt', role: 'status', 'data-testid': 'update-prompt' },
    h('span', null, t('pwa.updateReady')),
    reload,
    h(
      'button',
      {
        type: 'button',
        onClick: () => {
          prompt?.remove();
          prompt = null;
        },
      },
      t('pwa.later'),
    ),
  );
  document.body.append(prompt);
}

/** Forgets the API answers kept for offline use (signing out on purpose). */
export function forgetOfflineCopies(): void {
  if ('caches' in window) void caches.delete('tchat-api-v1').catch(() => undefined);
}
