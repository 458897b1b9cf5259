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
//   receipt → history filters → B removes its password → B deletes its account
//   (its photo goes with it) → no console errors.
//
//   Also: B sets a profile photo in Settings (a file that is not a photo is
//   refused), A sees it in the chat list, the chat header and the group's
//   members, B removes it and A sees initials again. Every screenshot is also a
//   check: axe (no serious or critical WCAG 2.1 AA violation) and no message key
//   shown instead of its text.
//
// TCHAT_E2E_LANG (en, th, id, ms, fil, vi; default en) runs the whole flow in that
// language: the browsers ask for it, and every label clicked and text expected is
// the client's own (src/i18n/, through e2e/i18n.mjs); in Vietnamese A is on the
// phone and B on the desktop, so that each screen is checked at both sizes.
// Screenshots screens-* (English) or screens-<lang>-*.
//
// scripts/test.sh runs it after chat.e2e.mjs, in English, Vietnamese and
// Indonesian. By hand, against the local system of scripts/start.sh:
// node web/e2e/screens.e2e.mjs
// Environment: TCHAT_TEST_GATEWAY_URL [http://127.0.0.1:8080], TCHAT_WEB_ARTIFACTS
// [.test-run/artifacts/web] (screenshots screens-*), TCHAT_CHROMIUM [/usr/bin/chromium],
// TCHAT_E2E_HEADED=1 to watch.
import { mkdir } from 'node:fs/promises';

import { assertNoKeys, keyPattern, loose, texts } from './i18n.mjs';
import { assertAccessible } from './pwa.mjs';
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

const LANG = /** @type {'en' | 'th' | 'id' | 'ms' | 'fil' | 'vi'} */ (
  process.env.TCHAT_E2E_LANG ?? 'en'
);
const { t, tn, money } = await texts(LANG);
const KEYS = await keyPattern();
/** The browser's language and time zone per run. */
const BROWSER = {
  en: { locale: 'en-GB', timezoneId: 'Asia/Bangkok' },
  th: { locale: 'th-TH', timezoneId: 'Asia/Bangkok' },
  id: { locale: 'id-ID', timezoneId: 'Asia/Jakarta' },
  ms: { locale: 'ms-MY', timezoneId: 'Asia/Kuala_Lumpur' },
  fil: { locale: 'fil-PH', timezoneId: 'Asia/Manila' },
  vi: { locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' },
}[LANG];
const SWAP = LANG === 'vi';
const PREFIX = LANG === 'en' ? 'screens' : `screens-${LANG}`;
/** Screens checked by axe, per window size. */
const axed = { desktop: /** @type {string[]} */ ([]), phone: /** @type {string[]} */ ([]) };

/** Screen size of a page. @param {Page} page */
const sizeOf = (page) => ((page === a) !== SWAP ? 'desktop' : 'phone');

/**
 * axe (0 serious/critical), no untranslated key, then the screenshot; the name's
 * "desktop"/"phone" is the page's real size.
 * @param {Page} page @param {string} name
 */
async function shot(page, name) {
  const size = sizeOf(page);
  const named = name.replace(/desktop|phone/, size);
  // Lists and balances fill in after a screen appears.
  await page.waitForTimeout(300);
  await assertAccessible(page, `${named} (${LANG})`);
  await assertNoKeys(page, named, KEYS);
  axed[size].push(named);
  await screenshot(page, `${PREFIX}-${named}`);
}

/** `see` with the client's wording: any kind of space matches. @param {Page} page @param {string} selector @param {string} text */
const seeT = (page, selector, text) => see(page, selector, loose(text));

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
  // After a reload the page may still be drawing: wait for one of the two.
  await page
    .locator(`a[data-nav=${where}]:visible, a.back-link:visible`)
    .first()
    .waitFor({ timeout: WAIT });
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
  const labels = {
    send: t('signin.sendCode'),
    use: t('signin.useDevCode'),
    verify: t('signin.verify'),
    cont: t('profile.continue'),
  };
  await signIn(a, alice, undefined, labels);
  await signIn(b, bob, undefined, labels);
  await nav(a, 'wallet');
  await a.fill('#topup-amount', '300');
  await a.selectOption('#topup-currency', 'THB');
  await a.selectOption('#topup-method', 'promptpay');
  await a.getByRole('button', { name: t('wallet.continue') }).click();
  await a.waitForURL(/\/dev\/psp\/pay\?/, { timeout: WAIT });
  await a.getByRole('button', { name: 'Pay now' }).click();
  await a.waitForURL(/\/wallet/, { timeout: WAIT });
  await seeT(a, '[data-testid=balance-THB]', money(30000, 'THB'));
  await nav(a, 'chats');
  await a.getByTestId('new-chat').click();
  await a.fill('#new-chat-who', bob.phone);
  await a.getByRole('button', { name: t('newChat.start') }).click();
  await a.getByTestId('composer').waitFor({ timeout: WAIT });
  await a.getByTestId('composer').fill('Hi Ben');
  await a.getByTestId('composer').press('Enter');
  await see(b, '[data-testid=conversation-list]', 'Hi Ben');
});

/** A 400×300 PNG drawn by the browser (the service decodes and re-encodes it). @param {Page} page */
async function photo(page) {
  const url = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 400;
    c.height = 300;
    const g = c.getContext('2d');
    if (!g) return '';
    g.fillStyle = '#1d6fb8';
    g.fillRect(0, 0, 400, 300);
    g.fillStyle = '#ffd23f';
    g.beginPath();
    g.arc(200, 150, 90, 0, Math.PI * 2);
    g.fill();
    return c.toDataURL('image/png');
  });
  return Buffer.from(url.split(',')[1] ?? '', 'base64');
}

/** Whether the avatar image in `scope` has loaded (a real picture, not initials). @param {import('playwright-core').Locator} scope */
async function photoShown(scope) {
  const img = scope.locator('.avatar img').first();
  await img.waitFor({ timeout: WAIT });
  await img.evaluate(
    (el) =>
      /** @type {HTMLImageElement} */ (el).complete ||
      new Promise((resolve) => el.addEventListener('load', resolve, { once: true })),
  );
  return img.evaluate((el) => /** @type {HTMLImageElement} */ (el).naturalWidth);
}

step(
  'avatar: B sets a profile photo (a text file is refused); A sees it in the list and the chat',
  async () => {
    await nav(b, 'settings');
    await b.getByTestId('avatar-preview').waitFor({ timeout: WAIT });
    await b.waitForTimeout(500);
    check(
      !(await b.getByTestId('avatar-remove').isVisible()),
      '"Remove photo" offered without a photo',
    );
    expectedFailures.push({ who: 'B', status: 422, path: '/v1/media/avatars/me' });
    await b.setInputFiles('#set-avatar', {
      name: 'notes.txt',
      mimeType: 'image/png',
      buffer: Buffer.from(`not a picture ${run}`),
    });
    await seeT(b, '[data-testid=avatar-status]', t('settings.avatarNotImage'));
    check(
      (await b.locator('[data-testid=avatar-preview] img').count()) === 0,
      'a refused file became the avatar',
    );
    await b.setInputFiles('#set-avatar', {
      name: 'me.png',
      mimeType: 'image/png',
      buffer: await photo(b),
    });
    await seeT(b, '[data-testid=avatar-status]', t('settings.avatarSaved'));
    const ownWidth = await photoShown(b.getByTestId('avatar-preview'));
    check(ownWidth > 0 && ownWidth <= 320, `B's own avatar is ${ownWidth} px wide`);
    await shot(b, '00-phone-settings-avatar');
    await nav(b, 'chats');
    // A (who saw B without a photo so far) loads the page again.
    await a.reload();
    await nav(a, 'chats');
    const row = a
      .locator('[data-testid=conversation-list] a')
      .filter({ has: a.locator('.conv-title', { hasText: bob.name }) });
    check((await photoShown(row)) > 0, "B's photo in A's chat list did not load");
    await openChat(a, bob.name);
    check((await photoShown(a.locator('.chat-head'))) > 0, "B's photo in A's chat header");
    await shot(a, '00-desktop-chat-avatar');
  },
);

step('group settings: A renames the group, makes B an admin and back; B sees it', async () => {
  await nav(a, 'chats');
  await a.getByRole('button', { name: t('chats.newGroup') }).click();
  await a.fill('#group-title', group.title);
  await a.fill('#group-who', bob.phone);
  await a.getByRole('button', { name: t('group.addButton'), exact: true }).click();
  await see(a, '.chips', bob.name);
  await a.getByRole('button', { name: t('group.create') }).click();
  await a.getByTestId('composer').waitFor({ timeout: WAIT });
  await a.getByTestId('chat-more').click();
  const dlg = groupDialog(a);
  await dlg.waitFor({ timeout: WAIT });
  await seeT(a, '[data-testid=group-members]', t('groupAdmin.role.owner'));
  await a.fill('#group-rename', group.renamed);
  await dlg.getByRole('button', { name: t('groupAdmin.rename') }).click();
  await seeT(a, '[data-testid=group-status]', t('groupAdmin.renamed'));
  await see(b, '[data-testid=conversation-list]', group.renamed);
  const bRow = dlg.locator(`li`).filter({ hasText: bob.name });
  // B's photo (set in the step before) shows in the member list.
  await bRow.locator('.avatar img').waitFor({ timeout: WAIT });
  await bRow.getByRole('button', { name: t('groupAdmin.makeAdmin') }).click();
  const admin = t('groupAdmin.role.admin');
  await seeT(
    a,
    '[data-testid=group-status]',
    t('groupAdmin.roleChanged', { name: bob.name, role: admin }),
  );
  await bRow.filter({ hasText: admin }).waitFor({ timeout: WAIT });
  await shot(a, '01-desktop-group-settings');
  // B, an admin now, sees the management controls on the phone.
  await openGroupSettings(b, group.renamed);
  await groupDialog(b).locator('#group-rename').waitFor({ timeout: WAIT });
  await shot(b, '02-phone-group-settings-admin');
  await b.keyboard.press('Escape');
  await bRow.getByRole('button', { name: t('groupAdmin.removeAdmin') }).click();
  await seeT(
    a,
    '[data-testid=group-status]',
    t('groupAdmin.roleChanged', { name: bob.name, role: t('groupAdmin.role.member') }),
  );
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
  await bRow
    .getByRole('button', { name: t('groupAdmin.removeMember', { name: bob.name }) })
    .click();
  await a
    .getByRole('dialog')
    .filter({ hasText: loose(t('groupAdmin.confirmRemove', { name: bob.name })) })
    .getByRole('button', { name: t('groupAdmin.remove'), exact: true })
    .click();
  await seeT(a, '[data-testid=group-status]', t('groupAdmin.removed', { name: bob.name }));
  await dlg
    .locator('li')
    .filter({ hasText: bob.name })
    .waitFor({ state: 'detached', timeout: WAIT });
  await a.fill('#group-add-who', bob.phone);
  await dlg.getByRole('button', { name: t('group.addButton'), exact: true }).click();
  await seeT(a, '[data-testid=group-status]', t('groupAdmin.added', { name: bob.name }));
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
    .filter({ hasText: loose(t('groupAdmin.confirmLeave', { title: group.renamed })) })
    .getByRole('button', { name: t('groupAdmin.leave') })
    .click();
  await seeT(b, '.toast', t('groupAdmin.left', { title: group.renamed }));
  await b.locator('[data-testid=conversation-list]').waitFor({ timeout: WAIT });
  const left = await api(b, 'GET', '/v1/conversations?limit=50');
  check(
    !left.body.conversations.some((c) => c.title === group.renamed),
    'B still has the group after leaving',
  );
  await a.reload();
  await openGroupSettings(a, group.renamed);
  await seeT(a, '[data-testid=group-settings] h3', tn('chats.members', 1));
  await a.keyboard.press('Escape');
});

step('avatar: B removes the photo; A sees initials again', async () => {
  await nav(b, 'settings');
  await b.getByTestId('avatar-remove').click();
  await seeT(b, '[data-testid=avatar-status]', t('settings.avatarRemoved'));
  check(!(await b.getByTestId('avatar-remove').isVisible()), '"Remove photo" still offered');
  check(
    (await b.locator('[data-testid=avatar-preview] img').count()) === 0,
    'the removed photo still shows in Settings',
  );
  const listed = await api(
    a,
    'GET',
    `/v1/media/avatars?user_ids=${(await api(b, 'GET', '/v1/users/me')).body.id}`,
  );
  check(
    listed.status === 200 && listed.body.avatars.length === 0,
    `after removal: ${JSON.stringify(listed.body)}`,
  );
  await a.reload();
  await nav(a, 'chats');
  const row = a
    .locator('[data-testid=conversation-list] a')
    .filter({ has: a.locator('.conv-title', { hasText: bob.name }) });
  await row.waitFor({ timeout: WAIT });
  await a.waitForTimeout(500);
  check((await row.locator('.avatar img').count()) === 0, 'A still sees the removed photo');
  const initials = (await row.locator('.avatar').innerText()).trim();
  check(initials === 'B' || initials === 'B' + run[0], `initials shown: ${initials}`);
  await nav(b, 'chats');
});

step(
  'mute a chat for 1 hour, then until unmuted; Settings lists it; quiet hours in Jakarta time',
  async () => {
    await openChat(a, bob.name);
    await a.getByTestId('chat-mute').click();
    await a.getByRole('menuitem', { name: tn('mute.forHours', 1) }).click();
    const [before, after] = t('mute.until').split('{time}');
    await a
      .locator(
        before
          ? `[data-testid=chat-mute][title^="${before}"]`
          : `[data-testid=chat-mute][title$="${after}"]`,
      )
      .waitFor({ timeout: WAIT });
    const prefs = await api(a, 'GET', '/v1/notification-preferences');
    const m = prefs.body.muted_conversations[0];
    const left = m?.until ? Date.parse(m.until) - Date.now() : 0;
    check(left > 55 * 60_000 && left <= 60 * 60_000, `muted for ${left} ms, not about an hour`);
    await shot(a, '03-desktop-muted-hour');
    await a.getByTestId('chat-mute').click();
    await a.getByRole('menuitem', { name: t('mute.forever') }).click();
    await a
      .locator(`[data-testid=chat-mute][title="${t('mute.always')}"]`)
      .waitFor({ timeout: WAIT });
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
    check(mutedText.includes(`${bob.name} ${t('mute.always')}`), `the muted list: ${mutedText}`);
    await a.check('#set-quiet');
    await a.fill('#set-quiet-from', '21:30');
    await a.fill('#set-quiet-to', '06:15');
    await a.selectOption('#set-zone', 'Asia/Jakarta');
    await seeT(
      a,
      '[data-testid=zone-now]',
      t('quiet.zoneNow', { zone: 'Asia/Jakarta' }).split('{time}')[0] ?? '',
    );
    await a
      .locator('form')
      .filter({ has: a.locator('#set-quiet') })
      .getByRole('button', { name: t('common.save') })
      .click();
    await seeT(a, '.settings .form-ok', t('common.saved'));
    const quiet = await api(a, 'GET', '/v1/notification-preferences');
    check(
      JSON.stringify(quiet.body.quiet_hours) ===
        JSON.stringify({ start: '21:30', end: '06:15', timezone: 'Asia/Jakarta' }),
      `quiet hours: ${JSON.stringify(quiet.body.quiet_hours)}`,
    );
    await shot(a, '04-desktop-settings-muted-quiet');
    // Unmuted from Settings.
    await a.getByRole('button', { name: t('settings.unmute'), exact: true }).click();
    await seeT(a, '.settings', t('settings.noMuted'));
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
    .getByRole('button', { name: t('money.pay'), exact: true })
    .click();
  await seeT(a, '.toast', t('requests.paid', { amount: money(1500, 'THB'), name: bob.name }));
  await seeT(a, '[data-testid=balance-THB]', money(28500, 'THB'));
  await list
    .locator('li')
    .filter({ hasText: `Hotel ${run}` })
    .getByRole('button', { name: t('money.decline') })
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
    .getByRole('button', { name: t('money.cancelRequest') })
    .click();
  await see(b, '[data-testid=requests-list] li[data-status=cancelled]', `Snacks ${run}`);
  await b.getByTestId('requests').scrollIntoViewIfNeeded();
  await shot(b, '06-phone-requests-sent');
  await b.getByTestId('requests-incoming').click();
  await seeT(b, '[data-testid=requests-list]', t('requests.noneIncoming'));
});

step('A withdraws 20 THB to PromptPay: held at once, the receipt names where it goes', async () => {
  await a.getByTestId('withdraw-open').click();
  await a.fill('#wd-amount', '20');
  await a.selectOption('#wd-currency', 'THB');
  const methods = await a.locator('#wd-method option').allTextContents();
  check(
    JSON.stringify(methods) === JSON.stringify([t('withdraw.bank'), 'PromptPay', 'TrueMoney']),
    `THB withdrawal methods: ${methods}`,
  );
  await a.selectOption('#wd-method', 'promptpay');
  await a.fill('#wd-account', '081 234 5678');
  await shot(a, '07-desktop-withdraw');
  await a
    .getByTestId('withdraw-form')
    .getByRole('button', { name: t('withdraw.submit') })
    .click();
  await seeT(a, '.toast', t('withdraw.started', { amount: money(2000, 'THB') }));
  await seeT(a, '[data-testid=balance-THB]', money(26500, 'THB'));
  await a.locator('.tx-list li[data-kind=withdrawal]').first().click();
  await see(a, '[data-testid=receipt]', 'PromptPay: 081 234 5678');
  await seeT(a, '[data-testid=receipt]', t('receipt.status.pending'));
  await shot(a, '08-desktop-receipt-withdrawal');
  await a.keyboard.press('Escape');
});

step('B refunds the paid request from its receipt; history filters', async () => {
  await b.reload();
  await seeT(b, '[data-testid=balance-THB]', money(1500, 'THB'));
  await b.locator('.tx-list li[data-kind=request_payment]').first().click();
  await see(b, '[data-testid=receipt]', `Tickets ${run}`);
  await b.getByTestId('receipt-refund').click();
  await b
    .getByRole('dialog')
    .filter({
      hasText: loose(t('receipt.confirmRefund', { amount: money(1500, 'THB'), name: alice.name })),
    })
    .getByRole('button', { name: t('money.refund'), exact: true })
    .click();
  await seeT(b, '.toast', t('receipt.refunded', { amount: money(1500, 'THB'), name: alice.name }));
  await seeT(b, '[data-testid=receipt]', t('money.status.refunded'));
  await shot(b, '09-phone-receipt-refunded');
  await b.keyboard.press('Escape');
  await seeT(b, '[data-testid=balance-THB]', money(0, 'THB'));
  await a.reload();
  await seeT(a, '[data-testid=balance-THB]', money(28000, 'THB'));
  // A's filters: money in only, then a currency A never used.
  await a.selectOption('[data-testid=tx-direction]', 'in');
  await seeT(a, '.tx-list li[data-kind=refund]', t('wallet.kind.refund'));
  check(
    (await a.locator('.tx-list li[data-kind=withdrawal]').count()) === 0,
    '"money in" shows the withdrawal',
  );
  await a.selectOption('[data-testid=tx-direction]', 'out');
  await seeT(a, '.tx-list li[data-kind=withdrawal]', t('wallet.kind.withdrawal'));
  check(
    (await a.locator('.tx-list li[data-kind=topup]').count()) === 0,
    '"money out" shows the top-up',
  );
  await a.selectOption('[data-testid=tx-currency]', 'PHP');
  await seeT(a, '.tx-list', t('wallet.noHistory'));
  await shot(a, '10-desktop-history-filtered');
});

step('B sets a password by API, then removes it in Settings (a wrong one is refused)', async () => {
  const me = await api(b, 'GET', '/v1/users/me');
  const code = await api(b, 'POST', '/v1/auth/otp/request', {
    phone: me.body.phone,
    purpose: 'password',
    locale: LANG,
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
  await b.getByRole('button', { name: t('passwordRemove.submit'), exact: true }).click();
  await seeT(b, 'dialog[open] [role=alert]', t('password.wrongCurrent'));
  await b.fill('#pwr-current', password);
  await shot(b, '11-phone-password-remove');
  await b.getByRole('button', { name: t('passwordRemove.submit'), exact: true }).click();
  await seeT(b, '.toast', t('passwordRemove.done'));
  await seeT(b, '[data-testid=password]', t('password.none'));
  const after = await api(b, 'GET', '/v1/users/me');
  check(after.body.has_password === false, 'the API still says B has a password');
});

step(
  'B sets a photo again, then deletes the account with a code: the photo goes with it',
  async () => {
    const bId = (await api(b, 'GET', '/v1/users/me')).body.id;
    await nav(b, 'settings');
    await b.setInputFiles('#set-avatar', {
      name: 'me.png',
      mimeType: 'image/png',
      buffer: await photo(b),
    });
    await seeT(b, '[data-testid=avatar-status]', t('settings.avatarSaved'));
    const before = await api(a, 'GET', `/v1/media/avatars?user_ids=${bId}`);
    check(before.body.avatars?.length === 1, `B's avatar before: ${JSON.stringify(before.body)}`);
    const zone = b.getByTestId('delete-account');
    await zone.getByRole('button', { name: t('deleteAccount.open') }).click();
    await zone.getByRole('button', { name: t('password.sendCode') }).click();
    await zone.getByTestId('dev-code').waitFor({ timeout: WAIT });
    await zone.getByRole('button', { name: t('signin.useDevCode') }).click();
    await zone.getByLabel(t('deleteAccount.understand')).check();
    await zone.scrollIntoViewIfNeeded();
    await shot(b, '12-phone-delete-account');
    await zone.getByRole('button', { name: t('deleteAccount.submit') }).click();
    await b
      .getByRole('dialog')
      .getByRole('button', { name: t('deleteAccount.submit') })
      .click();
    await b.locator('#phone').waitFor({ timeout: WAIT });
    // Messaging forgets the user when it reads auth.user.deleted: the avatar goes.
    const deadline = Date.now() + WAIT;
    let left = -1;
    while (Date.now() < deadline) {
      left = (await api(a, 'GET', `/v1/media/avatars?user_ids=${bId}`)).body.avatars.length;
      if (left === 0) break;
      await a.waitForTimeout(250);
    }
    check(left === 0, "the deleted account's avatar is still listed");
  },
);

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
  const ctxA = await browser.newContext({ ...(SWAP ? PHONE : DESKTOP), ...BROWSER });
  const ctxB = await browser.newContext({ ...(SWAP ? DESKTOP : PHONE), ...BROWSER });
  a = await ctxA.newPage();
  b = await ctxB.newPage();
  watch(a, 'A');
  watch(b, 'B');
  await runSteps(`web client screens (${LANG})`, steps, async () => {
    await screenshot(a, `${PREFIX}-failure-${sizeOf(a)}`);
    await screenshot(b, `${PREFIX}-failure-${sizeOf(b)}`);
  });
  await browser.close();
  console.log(`axe, 0 serious/critical, desktop: ${axed.desktop.join(', ')}`);
  console.log(`axe, 0 serious/critical, phone: ${axed.phone.join(', ')}`);
  console.log(`screenshots: ${ARTIFACTS}/${PREFIX}-*.png`);
}

main().catch(async (err) => {
  console.log(`FAIL: ${err instanceof Error ? err.stack : err}`);
  await browser?.close().catch(() => undefined);
  process.exitCode = 1;
});
