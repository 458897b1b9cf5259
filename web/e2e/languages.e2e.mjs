#!/usr/bin/env node
// @ts-check
// The web client in Vietnamese and Indonesian against a running Tchat stack
// (web/README.md), through two browser contexts of Debian's Chromium: V, phone-sized,
// with a Vietnamese browser (vi-VN, Asia/Ho_Chi_Minh) and a Vietnamese number; I,
// desktop-sized, with an Indonesian one (id-ID, Asia/Jakarta).
//
//   sign-in screen in the browser's language (only that language's chunk loads) →
//   sign-in with the numbers in national format, profile locale saved → V chats with
//   I (receipts and the unread count in each language) → V tops up 100.000 VND and
//   sends 25.000 ₫, I tops up Rp 150.000 and sends Rp 20.000: amounts without
//   decimals on both sides → V searches "pho bo" (no tone marks) over the chat list
//   and a Thai word of unspaced text inside the chat, and each result opens the chat
//   at its message → I's inbox in Indonesian with a relative time → V
//   switches to Filipino and back (saved to the profile) → I signs in on an English
//   browser and gets Indonesian from the profile → no untranslated key on any screen
//   → no console errors.
//
// scripts/test.sh runs it after chat.e2e.mjs (same screenshots directory, files
// "lang-*"). By hand: node web/e2e/languages.e2e.mjs. Environment as chat.e2e.mjs.
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
  screenshot as shot,
  see,
  stepList,
} from './support.mjs';

const NBSP = /[\s\u00a0\u202f]/g;

/** @typedef {import('playwright-core').Page} Page */

const { steps, step } = stepList();

/** Text of the first match, with every kind of space made a plain one. @param {Page} page @param {string} selector */
async function text(page, selector) {
  return ((await page.locator(selector).first().textContent()) ?? '').replace(NBSP, ' ').trim();
}

// A key shown instead of its text ("wallet.title"): t() falls back to the key.
const KEY_MARKER =
  /\b(app|nav|common|signin|profile|chats|newChat|group|chat|money|wallet|inbox|settings|password|devices|blocked|reset|media|search)\.[a-zA-Z_]+\b/;

/** Fails when the page shows a message key: text, labels, placeholders, titles. @param {Page} page @param {string} where */
async function noKeys(page, where) {
  const shown = await page.evaluate(() => {
    const parts = [document.body.innerText];
    for (const el of document.querySelectorAll('[aria-label],[placeholder],[title]')) {
      for (const a of ['aria-label', 'placeholder', 'title']) parts.push(el.getAttribute(a) ?? '');
    }
    return parts.join('\n');
  });
  const m = KEY_MARKER.exec(shown);
  check(!m, `${where}: untranslated key "${m?.[0]}" on the page`);
}

/** The signed-in user's profile, through the API with the page's token. @param {Page} page */
async function me(page) {
  return page.evaluate(async () => {
    const token = JSON.parse(localStorage.getItem('tchat.session') ?? '{}').accessToken;
    const r = await fetch('/v1/users/me', { headers: { Authorization: `Bearer ${token}` } });
    return r.json();
  });
}

const rnd = () => String(Math.floor(Math.random() * 100)).padStart(2, '0');
// Vinaphone (091) and Telkomsel (0812) mobile numbers no earlier run used.
const viet = {
  country: 'VN',
  phone: `0912${run.slice(1)}${rnd()}`,
  name: `Minh ${run}`,
  shown: '',
};
const indo = { country: 'ID', phone: `0812${run}${rnd()}1`, name: `Siti ${run}`, shown: '' };
// National format: 0912 345 678 (Viet Nam), 0812 3456 7890 (Indonesia, 12 digits).
viet.shown = `${viet.phone.slice(0, 4)} ${viet.phone.slice(4, 7)} ${viet.phone.slice(7)}`;
indo.shown = `${indo.phone.slice(0, 4)} ${indo.phone.slice(4, 8)} ${indo.phone.slice(8)}`;
const e164 = (/** @type {string} */ dial, /** @type {string} */ national) =>
  `${dial}${national.slice(1)}`;

/** @type {import('playwright-core').Browser} */ let browser;
/** @type {Page} */ let v;
/** @type {Page} */ let i;
/** @type {Record<string, string[]>} */
const problems = {};
/** Language chunks each page loaded ("vi", "id", …). @type {Record<string, string[]>} */
const chunks = {};
let indoCodeAt = 0;

/** @param {Page} page @param {string} who */
function watch(page, who) {
  problems[who] = [];
  chunks[who] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems[who]?.push(`console: ${msg.text()} (${page.url()})`);
  });
  page.on('pageerror', (err) => problems[who]?.push(`exception: ${err.message}`));
  page.on('request', (r) => {
    const m = /\/assets\/(th|id|ms|fil|vi)-[\w-]+\.js$/.exec(r.url());
    if (m?.[1]) chunks[who]?.push(m[1]);
  });
}

/**
 * Signs in on a page already showing the sign-in screen, with the development code.
 * @param {Page} page @param {{country: string, phone: string, shown: string}} user
 * @param {{send: string, use: string, verify: string}} buttons @param {string} prefix
 */
async function signIn(page, user, buttons, prefix) {
  await page.selectOption('#country', user.country);
  await page.fill('#phone', user.phone);
  await page.getByRole('button', { name: buttons.send }).click();
  await page.getByTestId('dev-code').waitFor({ timeout: WAIT });
  if (user === indo) indoCodeAt = Date.now();
  // "We sent a code to …": the number as people there write it.
  const sent = ((await page.locator('.auth-card').textContent()) ?? '').replace(NBSP, ' ');
  check(sent.includes(user.shown), `the code was not announced to ${user.shown}: ${sent}`);
  await noKeys(page, `${prefix} code`);
  await shot(page, `${prefix}-signin-code`);
  await page.getByRole('button', { name: buttons.use }).click();
  await page.getByRole('button', { name: buttons.verify }).click();
}

/** @param {Page} page @param {string} name @param {string} button @param {string} prefix */
async function setUpProfile(page, name, button, prefix) {
  await page.locator('#display-name').waitFor({ timeout: WAIT });
  await noKeys(page, `${prefix} profile`);
  await page.fill('#display-name', name);
  await page.getByRole('button', { name: button }).click();
  await page.getByTestId('conversation-list').waitFor({ timeout: WAIT });
}

/** Opens a main screen; on a phone the open chat hides the navigation, so back first. @param {Page} page @param {string} where */
async function nav(page, where) {
  const back = page.locator('a.back-link');
  if (await back.isVisible()) await back.click();
  await page.locator(`a[data-nav=${where}]`).click();
}

/**
 * Tops up through the payment-provider simulator.
 * @param {Page} page @param {string} amount as typed @param {string} currency @param {string} method @param {string} cont
 */
async function topUp(page, amount, currency, method, cont) {
  await nav(page, 'wallet');
  await page.locator('#topup-amount').waitFor({ timeout: WAIT });
  await page.selectOption('#topup-currency', currency);
  await page.selectOption('#topup-method', method);
  await page.fill('#topup-amount', amount);
  await page.getByRole('button', { name: cont }).click();
  await page.waitForURL(/\/dev\/psp\/pay\?/, { timeout: WAIT });
  await page.getByRole('button', { name: 'Pay now' }).click();
  await page.waitForURL(/\/wallet/, { timeout: WAIT });
  await page.locator(`[data-testid=balance-${currency}]`).waitFor({ timeout: WAIT });
}

/** @param {Page} page @param {string} title */
async function openChat(page, title) {
  await nav(page, 'chats');
  await page
    .locator('[data-testid=conversation-list] a')
    .filter({ hasText: title })
    .first()
    .click();
  await page.getByTestId('composer').waitFor({ timeout: WAIT });
}

/** Sends money from the open chat. @param {Page} page @param {string} currency @param {string} amount */
async function sendMoney(page, currency, amount) {
  await page.getByTestId('send-money').click();
  await page.selectOption('#money-currency', currency);
  await page.fill('#money-amount', amount);
  await page.getByTestId('money-submit').click();
}

step('V: the sign-in screen follows the Vietnamese browser; only the vi chunk loads', async () => {
  await v.goto(`${BASE}/`);
  await see(v, 'h1', 'Đăng nhập Tchat');
  check((await v.getAttribute('html', 'lang')) === 'vi', 'html lang is not vi');
  check((await v.inputValue('#country')) === 'VN', 'the country is not Viet Nam');
  check(
    (await v.getAttribute('#phone', 'placeholder')) === '0912 345 678',
    'the phone example is not in Vietnamese national format',
  );
  await noKeys(v, 'vi sign-in');
  await shot(v, 'lang-vi-01-phone-signin');
  check(chunks.V?.join() === 'vi', `V loaded the language chunks ${chunks.V}`);
});

step(
  'V signs in; the code is sent to the number in national format; profile locale vi',
  async () => {
    await signIn(
      v,
      viet,
      { send: 'Gửi mã', use: 'Dùng mã này', verify: 'Xác minh' },
      'lang-vi-02-phone',
    );
    await setUpProfile(v, viet.name, 'Tiếp tục', 'lang-vi-03-phone');
    check((await me(v)).locale === 'vi', 'V’s profile locale is not vi');
    await see(v, '.chat-list', 'Chưa có cuộc trò chuyện nào');
  },
);

step('I: the sign-in screen in Indonesian; I signs in, profile locale id', async () => {
  await i.goto(`${BASE}/`);
  await see(i, 'h1', 'Masuk ke Tchat');
  check((await i.inputValue('#country')) === 'ID', 'the country is not Indonesia');
  await shot(i, 'lang-id-01-desktop-signin');
  await signIn(
    i,
    indo,
    { send: 'Kirim kode', use: 'Pakai kode ini', verify: 'Verifikasi' },
    'lang-id-02-desktop',
  );
  await setUpProfile(i, indo.name, 'Lanjut', 'lang-id-03-desktop');
  check((await me(i)).locale === 'id', 'I’s profile locale is not id');
  check(chunks.I?.join() === 'id', `I loaded the language chunks ${chunks.I}`);
});

step(
  'V starts a chat with I’s number: live messages, receipts, unread count in each language',
  async () => {
    await v.getByTestId('new-chat').click();
    await v.fill('#new-chat-who', e164('+62', indo.phone));
    await noKeys(v, 'vi new chat');
    await v.getByRole('button', { name: 'Bắt đầu trò chuyện' }).click();
    await v.waitForURL(/\/c\/[0-9a-f-]+$/, { timeout: WAIT });
    await v.getByTestId('composer').fill('Xin chào Siti! Hẹn gặp ở Hà Nội nhé 🇻🇳');
    await v.getByTestId('composer').press('Enter');
    await see(v, '.msg.mine [data-testid=receipt]', 'Đã gửi');
    const row = i.locator('[data-testid=conversation-list] a').filter({ hasText: viet.name });
    await row.waitFor({ timeout: WAIT });
    await i.waitForFunction(
      (n) =>
        [...document.querySelectorAll('[data-testid=conversation-list] a')].some(
          (a) =>
            // The link's name: its text, with the unread count for screen readers.
            (a.textContent ?? '').includes('1 belum dibaca') && a.textContent?.includes(n),
        ),
      viet.name,
      { timeout: WAIT },
    );
    await shot(i, 'lang-id-04-desktop-chat-list');
    await openChat(i, viet.name);
    await see(i, '.msg.theirs .text', 'Xin chào Siti');
    await i.getByTestId('composer').fill('Halo Minh, sampai jumpa di Jakarta!');
    await i.getByTestId('composer').press('Enter');
    await see(v, '.msg.theirs .text', 'sampai jumpa');
    await see(v, '.msg.mine [data-testid=receipt]', 'Đã xem');
    await see(i, '.msg.mine [data-testid=receipt]', 'Dibaca');
    await noKeys(v, 'vi chat');
    await noKeys(i, 'id chat');
    await shot(v, 'lang-vi-04-phone-chat');
  },
);

step(
  'V tops up 100.000 ₫ (typed the Vietnamese way) and sends 25.000 ₫: no decimals anywhere',
  async () => {
    await topUp(v, '100.000', 'VND', 'vietqr', 'Tiếp tục thanh toán');
    const balance = await text(v, '[data-testid=balance-VND]');
    check(balance === '100.000 ₫', `V’s VND balance reads "${balance}"`);
    await see(v, '.tx-list', 'Nạp tiền');
    await noKeys(v, 'vi wallet');
    await shot(v, 'lang-vi-05-phone-wallet');
    await openChat(v, indo.name);
    await sendMoney(v, 'VND', '25.000');
    await see(v, '.msg.mine [data-testid=payment-card]', '25.000 ₫');
    await see(i, '.msg.theirs [data-testid=payment-card]', `${viet.name} mengirimi Anda`);
    const card =
      (await i.locator('.msg.theirs [data-testid=payment-card]').first().textContent()) ?? '';
    check(/₫\s?25\.000(?![,\d])/.test(card.replace(NBSP, ' ')), `I’s card shows VND as "${card}"`);
    await shot(v, 'lang-vi-06-phone-chat-money');
  },
);

step('I tops up Rp 150.000 and sends Rp 20.000: whole rupiah on both sides', async () => {
  await topUp(i, '150.000', 'IDR', 'qris', 'Lanjut ke pembayaran');
  const balance = await text(i, '[data-testid=balance-IDR]');
  check(balance === 'Rp 150.000', `I’s IDR balance reads "${balance}"`);
  const vnd = await text(i, '[data-testid=balance-VND]');
  check(/^₫ ?25\.000$/.test(vnd), `I’s VND balance reads "${vnd}"`);
  await see(i, '.tx-list', 'Isi saldo');
  await noKeys(i, 'id wallet');
  await shot(i, 'lang-id-05-desktop-wallet');
  await openChat(i, viet.name);
  await sendMoney(i, 'IDR', '20.000');
  await see(i, '.msg.mine [data-testid=payment-card]', /Rp\s20\.000/);
  await see(v, '.msg.theirs [data-testid=payment-card]', `${indo.name} đã chuyển cho bạn`);
  const card =
    (await v.locator('.msg.theirs [data-testid=payment-card]').last().textContent()) ?? '';
  check(/20\.000 Rp/.test(card.replace(NBSP, ' ')), `V’s card shows IDR as "${card}"`);
  await shot(i, 'lang-id-06-desktop-chat-money');
  await shot(v, 'lang-vi-07-phone-chat-money-in');
});

/**
 * Searches from the search box `box` (a test id) for `query`, waits for a result
 * whose marked words are `marks`, opens it and checks that the chat opened at that
 * message: in the URL (?m=seq) and on screen, with the message in the visible part
 * of the history.
 * @param {Page} page @param {string} box @param {string} query @param {string} marks @param {string} full
 * @param {string} screenshot the results' screenshot
 */
async function searchAndJump(page, box, query, marks, full, screenshot) {
  await page.getByTestId(box).fill(query);
  const hit = page.getByTestId('search-hit').filter({ hasText: full }).first();
  await hit.waitFor({ timeout: WAIT });
  const marked = (await hit.locator('mark').allTextContents()).join(' ');
  check(marked === marks, `"${query}": marked "${marked}", expected "${marks}"`);
  await shot(page, screenshot);
  const seq = await hit.getAttribute('data-seq');
  await hit.click();
  await page.waitForURL(new RegExp(`/c/[0-9a-f-]+\\?m=${seq}$`), { timeout: WAIT });
  const msg = page.locator(`.msg[data-seq="${seq}"]`);
  await msg.filter({ hasText: full }).waitFor({ timeout: WAIT });
  await page.waitForFunction(
    (s) => {
      const el = document.querySelector(`.msg[data-seq="${s}"]`);
      const box = document.querySelector('[data-testid=messages]');
      if (!el || !box) return false;
      const r = el.getBoundingClientRect();
      const b = box.getBoundingClientRect();
      return r.bottom > b.top && r.top < b.bottom;
    },
    seq,
    { timeout: WAIT },
  );
}

step(
  'V searches in Vietnamese without tone marks and in Thai, and lands on each message',
  async () => {
    await openChat(v, indo.name);
    const send = async (/** @type {string} */ body) => {
      await v.getByTestId('composer').fill(body);
      await v.getByTestId('composer').press('Enter');
      await see(v, '.msg.mine .text', body);
    };
    await send('Tối nay ăn phở bò ở quán Hà Nội nhé');
    await send('พรุ่งนี้เจอกันที่ร้านกาแฟนะครับ');
    // Enough after them that both are scrolled out of the phone's view.
    for (let n = 1; n <= 12; n++) await send(`${n}. Hẹn gặp lại ${run}`);
    await nav(v, 'chats');
    await searchAndJump(
      v,
      'search-input',
      'pho bo',
      'phở bò',
      'Tối nay ăn phở bò',
      'lang-vi-search-1-phone-results',
    );
    await noKeys(v, 'vi search');
    await shot(v, 'lang-vi-search-2-phone-jump');
    // Inside the chat: a Thai word in unspaced text.
    await v.getByTestId('chat-search').click();
    await searchAndJump(
      v,
      'chat-search-input',
      'กาแฟ',
      'กาแฟ',
      'ร้านกาแฟ',
      'lang-vi-search-3-phone-thai-results',
    );
    await shot(v, 'lang-vi-search-4-phone-thai-jump');
  },
);

step('I’s inbox in Indonesian, with relative times', async () => {
  await nav(i, 'inbox');
  await i.getByTestId('inbox-list').waitFor({ timeout: WAIT });
  await see(i, 'h1', 'Kotak masuk');
  await see(i, '[data-testid=inbox-list] time', /sekarang|menit yang lalu|detik/);
  await noKeys(i, 'id inbox');
  await shot(i, 'lang-id-07-desktop-inbox');
});

step('V picks Filipino and back in settings: each saved to the profile', async () => {
  await nav(v, 'settings');
  await see(v, '.settings h1', 'Cài đặt');
  await see(v, '.settings', viet.shown);
  await noKeys(v, 'vi settings');
  await shot(v, 'lang-vi-08-phone-settings');
  await v.selectOption('#set-language', 'fil');
  await see(v, '.settings h1', 'Settings');
  await see(v, '.settings', 'Wika');
  await v.waitForFunction(() => document.documentElement.lang === 'fil');
  for (let n = 0; n < 20 && (await me(v)).locale !== 'fil'; n++) await v.waitForTimeout(200);
  check((await me(v)).locale === 'fil', 'the profile locale did not become fil');
  await v.selectOption('#set-language', 'vi');
  await see(v, '.settings h1', 'Cài đặt');
  for (let n = 0; n < 20 && (await me(v)).locale !== 'vi'; n++) await v.waitForTimeout(200);
  check((await me(v)).locale === 'vi', 'the profile locale did not go back to vi');
  // (Each full page load, like the way back from the payment page, fetches vi again.)
  const loaded = [...new Set(chunks.V)].join();
  check(loaded === 'vi,fil', `V loaded the language chunks ${chunks.V}`);
});

step(
  'I signs in on an English browser: the profile’s Indonesian is applied at sign-in',
  async () => {
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'en-GB',
    });
    const page = await ctx.newPage();
    watch(page, 'I2');
    await page.goto(`${BASE}/`);
    await see(page, 'h1', 'Sign in to Tchat');
    // One code per number a minute (AUTH_OTP_RESEND_COOLDOWN).
    const wait = indoCodeAt + 62_000 - Date.now();
    if (wait > 0) await page.waitForTimeout(wait);
    await signIn(
      page,
      indo,
      { send: 'Send code', use: 'Use this code', verify: 'Verify' },
      'lang-id-08-desktop-en',
    );
    await see(page, '.chat-list h1', 'Chat');
    await see(page, 'a[data-nav=wallet]', 'Dompet');
    check((await page.getAttribute('html', 'lang')) === 'id', 'html lang is not id after sign-in');
    await noKeys(page, 'id after sign-in');
    await shot(page, 'lang-id-09-desktop-profile-language');
    await ctx.close();
  },
);

step('no console errors or uncaught exceptions', async () => {
  const all = Object.entries(problems).flatMap(([who, p]) => p.map((x) => `${who}: ${x}`));
  check(all.length === 0, `console errors:\n  ${all.join('\n  ')}`);
});

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  const ctxV = await browser.newContext({
    ...PHONE,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  const ctxI = await browser.newContext({
    ...DESKTOP,
    locale: 'id-ID',
    timezoneId: 'Asia/Jakarta',
  });
  v = await ctxV.newPage();
  i = await ctxI.newPage();
  watch(v, 'V');
  watch(i, 'I');

  await runSteps('web client languages', steps, async () => {
    await shot(v, 'lang-failure-vi');
    await shot(i, 'lang-failure-id');
  });
  await browser.close();
  console.log(`screenshots: ${ARTIFACTS} (lang-*)`);
}

main().catch(async (err) => {
  console.log(`FAIL: ${err instanceof Error ? err.stack : err}`);
  await browser?.close().catch(() => undefined);
  process.exitCode = 1;
});
