#!/usr/bin/env node
// @ts-check
// Lighthouse (npm) scores of the web client on two pages — the sign-in screen and
// an open chat — against a running stack, in Debian's Chromium (/usr/bin/chromium,
// started by playwright-core with a DevTools port for Lighthouse to drive).
// Lighthouse's default profile: a phone, simulated slow 4G and a 4x slower CPU.
//
//   node scripts/lighthouse.mjs [--runs 3] [--min 90] [--json FILE]
//
// Each page is audited --runs times and the median of each score is printed (the
// performance score moves with the machine's load: the simulated throttling scales
// the CPU time the page really took).
// The chat page needs a signed-in user with a conversation: the script makes two
// with the development OTP (TCHAT_DEV_OTP=1, as scripts/start.sh runs) through the
// API, writes some messages, and puts the session into the page's storage before
// Lighthouse loads the chat (its storage reset is off for that page).
// Environment: TCHAT_TEST_GATEWAY_URL [http://127.0.0.1:8080], TCHAT_CHROMIUM.
// Exit code 1 when --min is given and a score is below it.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';

const BASE = (process.env.TCHAT_TEST_GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const CHROMIUM = process.env.TCHAT_CHROMIUM ?? '/usr/bin/chromium';
const args = process.argv.slice(2);
const min = args.includes('--min') ? Number(args[args.indexOf('--min') + 1]) : null;
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 3;
const CATEGORIES = ['performance', 'accessibility', 'best-practices'];

/** @param {string} path @param {unknown} body @param {string} [token] */
async function api(path, body, token) {
  const res = await fetch(`${BASE}${path}`, {
    method: body === undefined ? 'GET' : path === '/v1/users/me' ? 'PATCH' : 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A new user signed in with the development code, with a display name. @param {string} phone @param {string} name */
async function newUser(phone, name) {
  const otp = await api('/v1/auth/otp/request', { phone, country: 'TH', locale: 'en' });
  if (!otp.dev_code) throw new Error('no dev_code: the stack must run with TCHAT_DEV_OTP=1');
  const t = await api('/v1/auth/otp/verify', {
    phone,
    country: 'TH',
    code: otp.dev_code,
    device_name: 'lighthouse',
    platform: 'web',
  });
  t.user = await api('/v1/users/me', { display_name: name }, t.access_token);
  return t;
}

/** A free TCP port on 127.0.0.1. @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() =>
        addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** @param {number} port @param {string} url @param {boolean} keepStorage */
async function audit(port, url, keepStorage) {
  const result = await lighthouse(url, {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: CATEGORIES,
    disableStorageReset: keepStorage,
  });
  if (!result) throw new Error(`lighthouse gave no result for ${url}`);
  const { categories, audits } = result.lhr;
  /** @type {Record<string, number>} */
  const scores = {};
  for (const c of CATEGORIES) scores[c] = Math.round((categories[c]?.score ?? 0) * 100);
  const metric = (/** @type {string} */ id) => audits[id]?.displayValue ?? '?';
  const failed = Object.values(audits)
    .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
    .map((a) => a.id);
  return {
    url,
    scores,
    metrics: {
      FCP: metric('first-contentful-paint'),
      LCP: metric('largest-contentful-paint'),
      TBT: metric('total-blocking-time'),
      CLS: metric('cumulative-layout-shift'),
    },
    failed,
  };
}

const run = `${Date.now() % 100000}`.padStart(5, '0');
const port = await freePort();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [`--remote-debugging-port=${port}`, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
});
/** @type {{page: string, url: string, scores: Record<string, number>, metrics: Record<string, string>, failed: string[]}[]} */
const results = [];
/** Audits a page `runs` times; keeps every run and returns the medians. @param {string} name @param {string} url @param {boolean} keep */
async function audits(name, url, keep) {
  for (let i = 0; i < runs; i++) results.push({ page: name, ...(await audit(port, url, keep)) });
}
try {
  await audits('sign-in', `${BASE}/`, false);

  const me = await newUser(`08${run}871`, `Lighthouse ${run}`);
  const peer = await newUser(`08${run}872`, `Peer ${run}`);
  const conv = await api(
    '/v1/conversations',
    { type: 'direct', member_ids: [peer.user.id] },
    me.access_token,
  );
  for (let i = 1; i <= 30; i++) {
    const [who, text] = i % 2 ? [me, `Message ${i} from me`] : [peer, `Answer ${i} from the peer`];
    await api(
      `/v1/conversations/${conv.id}/messages`,
      { client_msg_id: crypto.randomUUID(), type: 'text', body: text },
      who.access_token,
    );
  }
  // The session as src/api/session.ts stores it, in the browser Lighthouse drives.
  const ctx = browser.contexts()[0] ?? (await browser.newContext());
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.evaluate((s) => localStorage.setItem('tchat.session', JSON.stringify(s)), {
    accessToken: me.access_token,
    refreshToken: me.refresh_token,
    accessExpiresAt: Date.now() + me.expires_in * 1000,
    user: me.user,
  });
  await page.close();
  await audits('chat', `${BASE}/c/${conv.id}`, true);
} finally {
  await browser.close();
}

// The scores move with the machine's load (simulated throttling scales real CPU time).
const load = loadavg()
  .map((x) => x.toFixed(1))
  .join(' ');
console.log(`load average ${load} on ${cpus().length} CPUs`);
const median = (/** @type {number[]} */ xs) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
let below = false;
for (const name of ['sign-in', 'chat']) {
  const mine = results.filter((r) => r.page === name);
  const each = CATEGORIES.map((c) => `${c} ${median(mine.map((r) => r.scores[c] ?? 0))}`);
  console.log(`${name.padEnd(8)} median of ${mine.length}: ${each.join(', ')}`);
  for (const r of mine) {
    const scores = CATEGORIES.map((c) => r.scores[c]).join('/');
    const metrics = Object.entries(r.metrics)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(
      `         run: ${scores} | ${metrics}${r.failed.length ? ` | failed: ${r.failed.join(', ')}` : ''}`,
    );
  }
  if (min !== null && CATEGORIES.some((c) => median(mine.map((r) => r.scores[c] ?? 0)) < min))
    below = true;
}
if (jsonOut) await writeFile(jsonOut, JSON.stringify(results, null, 2));
if (below) {
  console.log(`a score is below ${min}`);
  process.exitCode = 1;
}
