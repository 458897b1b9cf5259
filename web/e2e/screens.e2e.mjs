#!/usr/bin/env node
// @ts-check
// End-to-end test of the web client's management screens against a running Tchat
// stack, with two browser contexts of Debian's Chromium (playwright-core): A on a
// desktop-sized window, B on a phone-sized one.
//
//   A and B sign in, A tops up → group settings: A renames a group, makes B an
//   admin and back, removes B and adds B again, B leaves → the bell mutes a chat
//   for 1 hour, then until unmuted, Settings lists it; quiet hours in another
//   time zone → payment requests: A pays one and declines one from the wallet's
//   list, B sees them as paid/declined and cancels a third → A withdraws to
//   PromptPay (amount held) and opens its receipt → B refunds a payment from its
//   receipt → history filters → B removes its password → no console errors.
//
// scripts/test.sh runs it after chat.e2e.mjs. By hand, against the local system of
// scripts/start.sh: node web/e2e/screens.e2e.mjs
// Environment: TCHAT_TEST_GATEWAY_URL [http://127.0.0.1:8080], TCHAT_WEB_ARTIFACTS
// [.test-run/artifacts/web] (screenshots screens-*), TCHAT_CHROMIUM [/usr/bin/chromium],
// TCHAT_E2E_HEADED=1 to watch.
import { mkdir } from 'node:fs/promises';

import { runSteps } from './run_steps.mjs';
import {
  ARTIFACTS,
  BASE,
  DESKTOP,
  PHONE,
  WAIT,
  check,
  launchBrowser,
  run,
  screenshot,
  see,
  signIn,
  stepList,
} from './support.mjs';

/** @typedef {import('playwright-core').Page} Page */

const { steps, step } = stepList();

/** @param {Page} page @param {string} name */
async function shot(page, name) {
  await screenshot(page, `screens-${name}`);
}

/** @param {string} suffix */
function phoneNumber(suffix) {
  return `09${run}${String(Math.floor(Math.random() * 100)).padStart(2, '0')}${suffix}`;
}
const alice = { phone: phoneNumber('1'), name: `Ann ${run}` };
const bob = { phone: phoneNumber('2'), name: `Ben ${run}` };
const group = { title: `Trip ${run}`, renamed: `Trip to Chiang Mai ${run}` };

/** @type {import('playwright-core').Browser} */ let browser;
/** @type {Page} */ let a;
/** @type {Page} */ let b;
const problems = { A: /** @type {string[]} */ ([]), B: /** @type {string[]} */ ([]) };
/** Failed responses provoked on purpose: each excuses one console error. */
const expectedFailures = /** @type {{who: 'A' | 'B', status: number, path: string}[]} */ ([]);

/** @param {Page} page @param {'A' | 'B'} who */
function watch(page, who) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const i = expectedFailures.findIndex(
      (e) =>
        e.who === who &&
        msg.text().includes(`status of ${e.status} `) &&
        new URL(msg.location().url || 'http://x/').pathname === e.path,
    );
    if (i >= 0) expectedFailures.splice(i, 1);
    else problems[who].push(`console: ${msg.text()} (${page.url()})`);
  });
  page.on('pageerror', (err) => problems[who].push(`exception: ${err.message}`));
}

/** On a phone an open chat hides the navigation: back first. @param {Page} page @param {string} where */
async function nav(page, where) {
  const back = page.locator('a.back-link');
  if (await back.isVisible()) await back.click();
  await page.locator(`a[data-nav=${where}]`).click();
}

/** @param {Page} page @param {string} title */
async function openChat(page, title) {
  await nav(page, 'chats');
  // By the title: a group's preview may name the same person.
  await page
    .locator('[data-testid=conversation-list] a')
    .filter({ has: page.locator('.conv-title', { hasText: title }) })
    .first()
    .click();
  await page.getByTestId('composer').waitFor({ timeout: WAIT });
}

/** A call to the API with the page's session. @param {Page} page @param {string} method @param {string} url @param {unknown} [body] */
async function api(page, method, url, body) {
  return page.evaluate(
    async ({ method, url, body }) => {
      const token = JSON.parse(localStorage.getItem('tchat.session') ?? '{}').accessToken;
      const r = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    { method, url, body },
  );
}

/** The open group-settings dialog. @param {Page} page */
const groupDialog = (page) => page.getByTestId('group-settings');

/** Opens the group's settings from its chat. @param {Page} page @param {string} title */
async function openGroupSettings(page, title) {
  await openChat(page, title);
  await page.getByTestId('chat-more').click();
  await groupDialog(page).waitFor({ timeout: WAIT });
}

step('A and B sign in; A tops up 300 THB; A and B have a direct chat', async () => {
  await signIn(a, alice);
  await signIn(b, bob);
  await nav(a, 'wallet');
  await a.fill('#topup-amount', '300');
  await a.selectOption('#topup-currency', 'THB');
  await a.selectOption('#topup-method', 'promptpay');
  await a.getByRole('button', { name: 'Continue to payment' }).click();
  await a.waitForURL(/\/dev\/psp\/pay\?/, { timeout: WAIT });
  await a.getByRole('button', { name: 'Pay now' }).click();
  await a.waitForURL(/\/wallet/, { timeout: WAIT });
  await see(a, '[data-testid=balance-THB]', '300.00');
  await nav(a, 'chats');
  await a.getByTestId('new-chat').click();
  await a.fill('#new-chat-who', bob.phone);
  await a.getByRole('button', { name: 'Start chat' }).click();
  await a.getByTestId('composer').waitFor({ timeout: WAIT });
  await a.getByTestId('composer').fill('Hi Ben');
  await a.getByTestId('composer').press('Enter');
  await see(b, '[data-testid=conversation-list]', 'Hi Ben');
});

step('group settings: A renames the group, makes B an admin and back; B sees it', async () => {
  await nav(a, 'chats');
  await a.getByRole('button', { name: 'New group' }).click();
  await a.fill('#group-title', group.title);
  await a.fill('#group-who', bob.phone);
  await a.getByRole('button', { name: 'Add', exact: true }).click();
  await see(a, '.chips', bob.name);
  await a.getByRole('button', { name: 'Create group' }).click();
  await a.getByTestId('composer').waitFor({ timeout: WAIT });
  await a.getByTestId('chat-more').click();
  const dlg = groupDialog(a);
  await dlg.waitFor({ timeout: WAIT });
  await see(a, '[data-testid=group-members]', 'Owner');
  await a.fill('#group-rename', group.renamed);
  await dlg.getByRole('button', { name: 'Rename' }).click();
  await see(a, '[data-testid=group-status]', 'The group is renamed.');
  await see(b, '[data-testid=conversation-list]', group.renamed);
  const bRow = dlg.locator(`li`).filter({ hasText: bob.name });
  await bRow.getByRole('button', { name: 'Make admin' }).click();
  await see(a, '[data-testid=group-status]', `${bob.name} is now Admin.`);
  await bRow.filter({ hasText: 'Admin' }).waitFor({ timeout: WAIT });
  await shot(a, '01-desktop-group-settings');
  // B, an admin now, sees the management controls on the phone.
  await openGroupSettings(b, group.renamed);
  await groupDialog(b).locator('#group-rename').waitFor({ timeout: WAIT });
  await shot(b, '02-phone-group-settings-admin');
  await b.keyboard.press('Escape');
  await bRow.getByRole('button', { name: 'Remove as admin' }).click();
  await see(a, '[data-testid=group-status]', `${bob.name} is now Member.`);
  const bId = (await api(b, 'GET', '/v1/users/me')).body.id;
  const conv = await api(a, 'GET', `/v1/conversations?limit=50`);
  const g = conv.body.conversations.find((c) => c.title === group.renamed);
  check(!!g, 'the renamed group is not in the API');
  // A list page carries only the caller's own membership of a group, and the count.
  check(g.members.length === 1 && g.member_count >= 2, `list page members: ${JSON.stringify(g)}`);
  const full = (await api(a, 'GET', `/v1/conversations/${g.id}`)).body;
  check(full.members.length === full.member_count, `GET members: ${JSON.stringify(full)}`);
  const role = full.members.find((m) => m.user_id === bId)?.role;
  check(role === 'member', `B's role in the API: ${role}`);
});

step('group settings: A removes B and adds B again by phone; then B leaves', async () => {
  const dlg = groupDialog(a);
  const bRow = dlg.locator('li').filter({ hasText: bob.name });
  await bRow.getByRole('button', { name: `Remove ${bob.name}` }).click();
  await a
    .getByRole('dialog')
    .filter({ hasText: 'from the group?' })
    .getByRole('button', {
      name: 'Remove',
    })
    .click();
  await see(a, '[data-testid=group-status]', `${bob.name} was removed.`);
  await dlg
    .locator('li')
    .filter({ hasText: bob.name })
    .waitFor({ state: 'detached', timeout: WAIT });
  await a.fill('#group-add-who', bob.phone);
  await dlg.getByRole('button', { name: 'Add', exact: true }).click();
  await see(a, '[data-testid=group-status]', `${bob.name} was added.`);
  await see(a, '[data-testid=group-members]', bob.name);
  await a.keyboard.press('Escape');
  // B leaves from the phone.
  // From the list (B's open chat was the group B had been removed from).
  await b.goto(`${BASE}/`);
  await openGroupSettings(b, group.renamed);
  check(
    (await groupDialog(b).locator('#group-rename').count()) === 0,
    'a plain member is offered to rename the group',
  );
  await groupDialog(b).getByTestId('group-leave').click();
  await b
    .getByRole('dialog')
    .filter({ hasText: 'no longer get its messages' })
    .getByRole('button', { name: 'Leave group' })
    .click();
  await see(b, '.toast', `You left ${group.renamed}.`);
  await b.locator('[data-testid=conversation-list]').waitFor({ timeout: WAIT });
  const left = await api(b, 'GET', '/v1/conversations?limit=50');
  check(
    !left.body.conversations.some((c) => c.title === group.renamed),
    'B still has the group after leaving',
  );
  await a.reload();
  await openGroupSettings(a, group.renamed);
  await see(a, '[data-testid=group-settings] h3', '1 member');
  await a.keyboard.press('Escape');
});

step(
  'mute a chat for 1 hour, then until unmuted; Settings lists it; quiet hours in Jakarta time',
  async () => {
    await openChat(a, bob.name);
    await a.getByTestId('chat-mute').click();
    await a.getByRole('menuitem', { name: 'Mute for 1 hour' }).click();
    await a.locator('[data-testid=chat-mute][title^="Muted until"]').waitFor({ timeout: WAIT });
    const prefs = await api(a, 'GET', '/v1/notification-preferences');
    const m = prefs.body.muted_conversations[0];
    const left = m?.until ? Date.parse(m.until) - Date.now() : 0;
    check(left > 55 * 60_000 && left <= 60 * 60_000, `muted for ${left} ms, not about an hour`);
    await shot(a, '03-desktop-muted-hour');
    await a.getByTestId('chat-mute').click();
    await a.getByRole('menuitem', { name: 'Mute until I turn it back on' }).click();
    await a.locator('[data-testid=chat-mute][title="Muted"]').waitFor({ timeout: WAIT });
    const forever = await api(a, 'GET', '/v1/notification-preferences');
    check(
      forever.body.muted_conversations.length === 1 &&
        forever.body.muted_conversations[0].until === null,
      `muted for ever: ${JSON.stringify(forever.body.muted_conversations)}`,
    );
    await nav(a, 'settings');
    const mutedList = a.locator('section[aria-labelledby=muted-title]');
    await mutedList.locator('li').filter({ hasText: bob.name }).waitFor({ timeout: WAIT });
    const mutedText = (await mutedList.innerText()).replace(/\s+/g, ' ');
    check(mutedText.includes(`${bob.name} Muted`), `the muted list: ${mutedText}`);
    await a.check('#set-quiet');
    await a.fill('#set-quiet-from', '21:30');
    await a.fill('#set-quiet-to', '06:15');
    await a.selectOption('#set-zone', 'Asia/Jakarta');
    await see(a, '[data-testid=zone-now]', 'Now in Asia/Jakarta');
    await a
      .locator('form')
      .filter({ has: a.locator('#set-quiet') })
      .getByRole('button', {
        name: 'Save',
      })
      .click();
    await see(a, '.settings .form-ok', 'Saved');
    const quiet = await api(a, 'GET', '/v1/notification-preferences');
    check(
      JSON.stringify(quiet.body.quiet_hours) ===
        JSON.stringify({ start: '21:30', end: '06:15', timezone: 'Asia/Jakarta' }),
      `quiet hours: ${JSON.stringify(quiet.body.quiet_hours)}`,
    );
    await shot(a, '04-desktop-settings-muted-quiet');
    // Unmuted from Settings.
    await a.getByRole('button', { name: 'Unmute' }).click();
    await see(a, '.settings', 'No muted chats.');
  },
);

step('payment requests: A pays one and declines one from the list; B cancels a third', async () => {
  const ask = async (amount, note) => {
    const me = await api(a, 'GET', '/v1/users/me');
    const r = await api(b, 'POST', '/v1/payment-requests', {
      from_user_id: me.body.id,
      amount,
      currency: 'THB',
      note,
    });
    check(r.status === 201, `request: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  };
  await ask(1500, `Tickets ${run}`);
  await ask(2500, `Hotel ${run}`);
  await nav(a, 'wallet');
  const list = a.getByTestId('requests-list');
  await see(a, '[data-testid=requests-list]', `Hotel ${run}`);
  await see(a, '[data-testid=requests-list]', `Tickets ${run}`);
  await shot(a, '05-desktop-requests');
  await list
    .locator('li')
    .filter({ hasText: `Tickets ${run}` })
    .getByRole('button', { name: 'Pay' })
    .click();
  await see(a, '.toast', `You paid ฿15.00 to ${bob.name}.`);
  await see(a, '[data-testid=balance-THB]', '285.00');
  await list
    .locator('li')
    .filter({ hasText: `Hotel ${run}` })
    .getByRole('button', { name: 'Decline' })
    .click();
  await see(a, '[data-testid=requests-list] li[data-status=declined]', `Hotel ${run}`);
  await a.selectOption('[data-testid=requests-status]', 'paid');
  await see(a, '[data-testid=requests-list] li[data-status=paid]', `Tickets ${run}`);
  check(
    (await list.locator('li[data-status=declined]').count()) === 0,
    'the "paid" filter shows a declined request',
  );
  // B's side on the phone: sent by B, paid and declined; B cancels a third one.
  await ask(700, `Snacks ${run}`);
  await nav(b, 'wallet');
  await b.getByTestId('requests-outgoing').click();
  const bl = b.getByTestId('requests-list');
  await see(b, '[data-testid=requests-list] li[data-status=paid]', `Tickets ${run}`);
  await see(b, '[data-testid=requests-list] li[data-status=declined]', `Hotel ${run}`);
  await bl
    .locator('li')
    .filter({ hasText: `Snacks ${run}` })
    .getByRole('button', { name: 'Cancel request' })
    .click();
  await see(b, '[data-testid=requests-list] li[data-status=cancelled]', `Snacks ${run}`);
  await b.getByTestId('requests').scrollIntoViewIfNeeded();
  await shot(b, '06-phone-requests-sent');
  await b.getByTestId('requests-incoming').click();
  await see(b, '[data-testid=requests-list]', 'Nobody has asked you for money.');
});

step('A withdraws 20 THB to PromptPay: held at once, the receipt names where it goes', async () => {
  await a.getByTestId('withdraw-open').click();
  await a.fill('#wd-amount', '20');
  await a.selectOption('#wd-currency', 'THB');
  const methods = await a.locator('#wd-method option').allTextContents();
  check(
    JSON.stringify(methods) === JSON.stringify(['Bank account', 'PromptPay', 'TrueMoney']),
    `THB withdrawal methods: ${methods}`,
  );
  await a.selectOption('#wd-method', 'promptpay');
  await a.fill('#wd-account', '081 234 5678');
  await shot(a, '07-desktop-withdraw');
  await a.getByTestId('withdraw-form').getByRole('button', { name: 'Withdraw' }).click();
  await see(a, '.toast', 'Withdrawal of ฿20.00 started.');
  await see(a, '[data-testid=balance-THB]', '265.00');
  await a.locator('.tx-list li[data-kind=withdrawal]').first().click();
  await see(a, '[data-testid=receipt]', 'PromptPay: 081 234 5678');
  await see(a, '[data-testid=receipt]', 'Processing');
  await shot(a, '08-desktop-receipt-withdrawal');
  await a.keyboard.press('Escape');
});

step('B refunds the paid request from its receipt; history filters', async () => {
  await b.reload();
  await see(b, '[data-testid=balance-THB]', '15.00');
  await b.locator('.tx-list li[data-kind=request_payment]').first().click();
  await see(b, '[data-testid=receipt]', `Tickets ${run}`);
  await b.getByTestId('receipt-refund').click();
  await b
    .getByRole('dialog')
    .filter({ hasText: 'Send ฿15.00 back to' })
    .getByRole('button', {
      name: 'Refund',
    })
    .click();
  await see(b, '.toast', `฿15.00 sent back to ${alice.name}.`);
  await see(b, '[data-testid=receipt]', 'Refunded');
  await shot(b, '09-phone-receipt-refunded');
  await b.keyboard.press('Escape');
  await see(b, '[data-testid=balance-THB]', '0.00');
  await a.reload();
  await see(a, '[data-testid=balance-THB]', '280.00');
  // A's filters: money in only, then a currency A never used.
  await a.selectOption('[data-testid=tx-direction]', 'in');
  await see(a, '.tx-list li[data-kind=refund]', 'Refund');
  check(
    (await a.locator('.tx-list li[data-kind=withdrawal]').count()) === 0,
    '"money in" shows the withdrawal',
  );
  await a.selectOption('[data-testid=tx-direction]', 'out');
  await see(a, '.tx-list li[data-kind=withdrawal]', 'Withdrawal');
  check(
    (await a.locator('.tx-list li[data-kind=topup]').count()) === 0,
    '"money out" shows the top-up',
  );
  await a.selectOption('[data-testid=tx-currency]', 'PHP');
  await see(a, '.tx-list', 'No transactions yet.');
  await shot(a, '10-desktop-history-filtered');
});

step('B sets a password by API, then removes it in Settings (a wrong one is refused)', async () => {
  const me = await api(b, 'GET', '/v1/users/me');
  const code = await api(b, 'POST', '/v1/auth/otp/request', {
    phone: me.body.phone,
    purpose: 'password',
    locale: 'en',
  });
  check(!!code.body?.dev_code, `no password code: ${JSON.stringify(code.body)}`);
  const password = `ben password ${run}`;
  const set = await api(b, 'PUT', '/v1/auth/password', { password, otp_code: code.body.dev_code });
  check(set.status === 204, `setting the password: ${set.status}`);
  await b.reload();
  await nav(b, 'settings');
  await b.getByTestId('password-remove').click();
  expectedFailures.push({ who: 'B', status: 403, path: '/v1/auth/password' });
  await b.fill('#pwr-current', 'not it at all');
  await b.getByRole('button', { name: 'Remove', exact: true }).click();
  await see(b, 'dialog[open] [role=alert]', 'The current password is wrong.');
  await b.fill('#pwr-current', password);
  await shot(b, '11-phone-password-remove');
  await b.getByRole('button', { name: 'Remove', exact: true }).click();
  await see(b, '.toast', 'Password removed.');
  await see(b, '[data-testid=password]', 'You sign in with a code');
  const after = await api(b, 'GET', '/v1/users/me');
  check(after.body.has_password === false, 'the API still says B has a password');
});

step('no console errors or uncaught exceptions in either browser', async () => {
  const all = Object.entries(problems).flatMap(([who, list]) => list.map((p) => `${who}: ${p}`));
  check(all.length === 0, `console errors:\n  ${all.join('\n  ')}`);
  check(
    expectedFailures.length === 0,
    `expected failures not seen: ${JSON.stringify(expectedFailures)}`,
  );
});

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  const ctxA = await browser.newContext({
    ...DESKTOP,
    locale: 'en-GB',
    timezoneId: 'Asia/Bangkok',
  });
  const ctxB = await browser.newContext({ ...PHONE, locale: 'en-GB', timezoneId: 'Asia/Bangkok' });
  a = await ctxA.newPage();
  b = await ctxB.newPage();
  watch(a, 'A');
  watch(b, 'B');
  await runSteps('web client screens', steps, async () => {
    await shot(a, 'failure-desktop');
    await shot(b, 'failure-phone');
  });
  await browser.close();
  console.log(`screenshots: ${ARTIFACTS}/screens-*.png`);
}

main().catch(async (err) => {
  console.log(`FAIL: ${err instanceof Error ? err.stack : err}`);
  await browser?.close().catch(() => undefined);
  process.exitCode = 1;
});
