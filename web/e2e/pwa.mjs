// @ts-check
// Browser-test helpers for the installable and accessible client (web/README.md):
// axe-core (npm) run inside the page, and the service worker's offline start.
// Used by chat.e2e.mjs; kept apart so that the steps there stay short.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.1 A and AA rules (axe's tags), as issue 20 asks. */
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** @typedef {import('playwright-core').Page} Page */

/**
 * The serious and critical WCAG 2.1 AA violations axe finds on the page as it is.
 * axe is evaluated through the DevTools protocol, which the page's
 * Content-Security-Policy (script-src 'self') does not govern.
 * @param {Page} page
 * @returns {Promise<{id: string, impact: string, help: string, targets: string[]}[]>}
 */
export async function axeViolations(page) {
  const source = await AXE_SOURCE;
  const has = await page.evaluate(() => 'axe' in window);
  if (!has) await page.evaluate(source);
  const result = await page.evaluate(async (tags) => {
    // @ts-ignore axe is the global the source above defines
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((/** @type {any} */ n) => n.target.join(' ')),
    }));
  }, TAGS);
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Fails when axe finds a serious or critical violation; returns the count checked (0).
 * @param {Page} page @param {string} screen a name for the message
 */
export async function assertAccessible(page, screen) {
  const found = await axeViolations(page);
  if (found.length) {
    const lines = found.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.targets.join(' | ')}`);
    throw new Error(`axe on ${screen}: ${found.length} serious/critical\n  ${lines.join('\n  ')}`);
  }
}

/**
 * Waits until a service worker controls the page (the first visit installs it and
 * claims the page), so that a reload can be answered without a network.
 * @param {Page} page
 */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, 10_000);
      });
    }
    return reg.active?.state;
  });
  const controlled = await page.evaluate(() => !!navigator.serviceWorker.controller);
  if (!controlled) throw new Error('no service worker controls the page');
}
