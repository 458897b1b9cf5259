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
  return result.filter(
    (/** @type {{impact: string}} */ v) => v.impact === 'serious' || v.impact === 'critical',
  );
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

/**
 * Goes to a route the way the client's links do (history API, no page load).
 * @param {Page} page @param {string} path
 */
async function goRoute(page, path) {
  await page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

/**
 * Runs axe on each main screen of a signed-in page — chat list, new-chat dialog,
 * the first chat, wallet, inbox, settings — and returns to where the page was.
 * @param {Page} page @param {string} label "desktop, dark"
 * @returns {Promise<string[]>} the screens checked
 */
export async function assertScreensAccessible(page, label) {
  const back = new URL(page.url()).pathname;
  /** @type {string[]} */
  const checked = [];
  const at = async (/** @type {string} */ screen, /** @type {string} */ selector) => {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: 20_000 });
    // Lists and balances fill in after the screen appears.
    await page.waitForTimeout(400);
    await assertAccessible(page, `${screen} (${label})`);
    checked.push(screen);
  };
  await goRoute(page, '/');
  await at('chat list', '[data-testid=conversation-list] a');
  const chat = await page.locator('[data-testid=conversation-list] a').first().getAttribute('href');
  await page.getByTestId('new-chat').click();
  await at('new-chat dialog', 'dialog[open]');
  // Focus management: in the dialog while it is open, back on its opener after Escape.
  if (!(await page.evaluate(() => !!document.activeElement?.closest('dialog[open]')))) {
    throw new Error(`the new-chat dialog does not take the focus (${label})`);
  }
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached', timeout: 5_000 });
  const focus = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  if (focus !== 'new-chat') throw new Error(`focus after the dialog: ${focus} (${label})`);
  if (chat) {
    await goRoute(page, chat);
    await at('chat', '[data-testid=composer]');
  }
  await goRoute(page, '/wallet');
  await at('wallet', '[data-testid=balances]');
  await goRoute(page, '/inbox');
  await at('inbox', '[data-testid=inbox-list]');
  await goRoute(page, '/settings');
  await at('settings', '.settings h1');
  await goRoute(page, back);
  return checked;
}
