// What the browser tests (chat, screens, media, languages .e2e.mjs) share: the
// environment they read, the step list, checks and waits, screenshots, the
// browser launch, the two standard windows and the development-code sign-in.
//
// Environment: TCHAT_TEST_GATEWAY_URL [http://127.0.0.1:8080], TCHAT_WEB_ARTIFACTS
// [.test-run/artifacts/web] (screenshots), TCHAT_CHROMIUM [/usr/bin/chromium],
// TCHAT_E2E_HEADED=1 to watch.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** @typedef {import('playwright-core').Page} Page */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE = (process.env.TCHAT_TEST_GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(
  /\/$/,
  '',
);
export const ARTIFACTS =
  process.env.TCHAT_WEB_ARTIFACTS ?? path.join(ROOT, '.test-run/artifacts/web');
export const CHROMIUM = process.env.TCHAT_CHROMIUM ?? '/usr/bin/chromium';
export const WAIT = 20_000;

/** A desktop-sized window (browser.newContext options, with locale and time zone added). */
export const DESKTOP = { viewport: { width: 1280, height: 800 } };
/** A phone-sized window. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** Five digits that differ between runs (phone numbers, names). */
export const run = `${Date.now() % 100000}`.padStart(5, '0');

/**
 * The steps of a test, for runSteps (run_steps.mjs), and `step` to add one.
 * @returns {{steps: {name: string, fn: () => Promise<void>}[], step: (name: string, fn: () => Promise<void>) => void}}
 */
export function stepList() {
  /** @type {{name: string, fn: () => Promise<void>}[]} */
  const steps = [];
  return { steps, step: (name, fn) => void steps.push({ name, fn }) };
}

/** @param {boolean} cond @param {string} message */
export function check(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * Waits for a locator with the given text to be visible.
 * @param {Page} page @param {string} selector @param {string | RegExp} text
 */
export async function see(page, selector, text) {
  await page
    .locator(selector)
    .filter({ hasText: text })
    .first()
    .waitFor({ state: 'visible', timeout: WAIT });
}

/** Saves ARTIFACTS/<name>.png. @param {Page} page @param {string} name */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Debian's Chromium (no browser is downloaded), headless unless TCHAT_E2E_HEADED=1. @param {string[]} args */
export function launchBrowser(args = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: process.env.TCHAT_E2E_HEADED !== '1',
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: process.getuid?.() === 0 ? [...args, '--no-sandbox'] : args,
  });
}

/**
 * Signs in on the Thai form with the development code and sets up the profile
 * (the username too when `user` has one). `shot`, when given, is called on the
 * code ("signin-code") and profile ("profile") screens.
 * @param {Page} page @param {{phone: string, name: string, username?: string}} user
 * @param {(name: string) => Promise<void>} [shot]
 * @param {{send: string, use: string, verify: string, cont: string}} [labels] the
 *   buttons' names in the page's language (English by default)
 */
export async function signIn(
  page,
  user,
  shot,
  labels = { send: 'Send code', use: 'Use this code', verify: 'Verify', cont: 'Continue' },
) {
  await page.goto(`${BASE}/`);
  await page.selectOption('#country', 'TH');
  await page.fill('#phone', user.phone);
  await page.getByRole('button', { name: labels.send }).click();
  await page.getByTestId('dev-code').waitFor({ timeout: WAIT });
  await shot?.('signin-code');
  await page.getByRole('button', { name: labels.use }).click();
  await page.getByRole('button', { name: labels.verify }).click();
  await page.locator('#display-name').waitFor({ timeout: WAIT });
  await page.fill('#display-name', user.name);
  if (user.username !== undefined) await page.fill('#username', user.username);
  await shot?.('profile');
  await page.getByRole('button', { name: labels.cont, exact: true }).click();
  await page.getByTestId('conversation-list').waitFor({ timeout: WAIT });
}
