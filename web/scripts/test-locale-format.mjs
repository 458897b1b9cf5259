#!/usr/bin/env node
// Tests of the locale-dependent formatting (no browser): money in each currency's
// digits and the language's separators, amounts as people type them, phone numbers
// in national format, the browser-language match, plural texts and relative times.
// src/ is transpiled with TypeScript into a temporary directory and imported.
// Run by `npm run check:i18n` (so by `npm run build` and scripts/test.sh).
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Transpiles src/<dir>/*.ts to <out>/<dir>/*.mjs, with "./x" imports made "./x.mjs" (and "../i18n" its index). */
async function transpile(out, dir) {
  await mkdir(path.join(out, dir), { recursive: true });
  for (const f of await readdir(path.join(SRC, dir))) {
    if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue;
    let js = ts.transpileModule(await readFile(path.join(SRC, dir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    js = js
      .replace(/'\.\.\/i18n'/g, "'../i18n/index'")
      .replace(/(from |import\()'(\.{1,2}\/[^']+)'/g, "$1'$2.mjs'")
      .replace(/import\.meta\.env/g, '({})');
    await writeFile(path.join(out, dir, f.replace(/\.ts$/, '.mjs')), js);
  }
}

// What the browser modules touch at load and on a language change.
globalThis.document = /** @type {any} */ ({ documentElement: { lang: '' } });
const store = new Map();
globalThis.localStorage = /** @type {any} */ ({
  getItem: (k) => store.get(k) ?? null,
  setItem: (k, v) => store.set(k, String(v)),
});

const out = await mkdtemp(path.join(tmpdir(), 'tchat-locale-'));
let failed = 0;
let passed = 0;
/** @param {string} name @param {() => unknown} fn */
async function test(name, fn) {
  try {
    await fn();
    passed++;
  } catch (err) {
    failed++;
    console.error(`FAIL ${name}: ${err instanceof Error ? err.message : err}`);
  }
}
const plain = (s) => s.replace(/[\u00a0\u202f]/g, ' ');

try {
  for (const d of ['i18n', 'util', 'ui']) await transpile(out, d);
  const load = (p) => import(pathToFileURL(path.join(out, p)).href);
  const money = await load('util/money.mjs');
  const phone = await load('util/phone.mjs');
  const i18n = await load('i18n/index.mjs');

  await test('money: VND and IDR without decimals, others with two', () => {
    assert.equal(plain(money.formatMoney(25000, 'VND', 'vi-VN')), '25.000 ₫');
    assert.equal(plain(money.formatMoney(15_000_000, 'IDR', 'id-ID')), 'Rp 150.000');
    assert.equal(plain(money.formatMoney(2_000_000, 'IDR', 'vi-VN')), '20.000 Rp');
    assert.equal(plain(money.formatMoney(1234, 'THB', 'th-TH-u-ca-gregory')), '฿12.34');
    assert.equal(plain(money.formatMoney(123456, 'MYR', 'ms-MY')), 'RM 1,234.56');
    assert.equal(plain(money.formatMoney(123456, 'PHP', 'fil-PH')), '₱1,234.56');
    assert.equal(plain(money.formatMoney(-500, 'SGD', 'en-GB')), '-$5.00');
  });
  await test('money: an IDR amount with cents (not made by the client) keeps them', () => {
    assert.equal(plain(money.formatMoney(15_000_050, 'IDR', 'id-ID')), 'Rp 150.000,50');
  });
  await test('money: amounts typed the local way', () => {
    const p = money.parseAmount;
    assert.equal(p('25.000', 'VND'), 25000);
    assert.equal(p('25,000', 'VND'), 25000);
    assert.equal(p('25 000', 'VND'), 25000);
    assert.equal(p('25.5', 'VND'), null);
    assert.equal(p('150.000', 'IDR', ','), 15_000_000);
    assert.equal(p('150000', 'IDR'), 15_000_000);
    assert.equal(p('150.000,50', 'IDR', ','), null);
    assert.equal(p('12,34', 'THB', ','), 1234);
    assert.equal(p('1.234,50', 'THB', ','), 123450);
    assert.equal(p('12.34', 'THB', ','), null);
    assert.equal(p('12.34', 'THB'), 1234);
    assert.equal(p('1,200.00', 'THB'), 120000);
    assert.equal(p('12.345', 'THB'), null);
    assert.equal(p('0', 'THB'), null);
    assert.equal(p('-5', 'THB'), null);
    assert.equal(money.amountPlaceholder('THB', 'id-ID'), '0,00');
    assert.equal(money.amountPlaceholder('VND', 'vi-VN'), '0');
  });
  await test('phone: national format per region, international for another country', () => {
    const f = phone.formatPhone;
    assert.equal(f('+66812345678', 'TH'), '081 234 5678');
    assert.equal(f('+6621234567', 'TH'), '02 123 4567');
    assert.equal(f('+6581234567', 'SG'), '8123 4567');
    assert.equal(f('+6281234567890', 'ID'), '0812 3456 7890');
    assert.equal(f('+60123456789', 'MY'), '012 345 6789');
    assert.equal(f('+639171234567', 'PH'), '0917 123 4567');
    assert.equal(f('+84912345678', 'VN'), '0912 345 678');
    assert.equal(f('0912345678', 'VN'), '0912 345 678');
    assert.equal(f('+84912345678', 'TH'), '+84 912 345 678');
    assert.equal(f('+4420123', 'TH'), '+4420123');
  });
  await test('browser languages: the first the client speaks', () => {
    const b = i18n.browserLocale;
    assert.equal(b(['vi-VN', 'en-US']), 'vi');
    assert.equal(b(['de-DE', 'id-ID']), 'id');
    assert.equal(b(['tl-PH']), 'fil');
    assert.equal(b(['fil']), 'fil');
    assert.equal(b(['ms-MY']), 'ms');
    assert.equal(b(['in']), 'id');
    assert.equal(b(['zh-CN']), 'en');
  });
  await test('plurals by Intl.PluralRules, per language', async () => {
    assert.equal(i18n.tn('chats.members', 1), '1 member');
    assert.equal(i18n.tn('chats.members', 2), '2 members');
    assert.equal(i18n.tn('chats.members', 1200), '1,200 members');
    await i18n.setLocale('vi');
    assert.equal(document.documentElement.lang, 'vi');
    assert.equal(i18n.tn('chats.members', 1200), '1.200 thành viên');
    await i18n.setLocale('fil');
    assert.equal(i18n.tn('chats.unread', 4), '4 hindi pa nababasa');
    await i18n.setLocale('id');
    assert.equal(i18n.t('wallet.title'), 'Dompet');
  });
  await test('relative times in the language', async () => {
    const format = await load('ui/format.mjs');
    const now = Date.parse('2026-01-10T12:00:00Z');
    await i18n.setLocale('id');
    assert.equal(format.relativeTime('2026-01-10T11:55:00Z', now), '5 menit yang lalu');
    assert.equal(format.relativeTime('2026-01-10T11:59:50Z', now), 'sekarang');
    await i18n.setLocale('vi');
    assert.equal(format.relativeTime('2026-01-09T12:00:00Z', now), 'Hôm qua');
  });
} finally {
  await rm(out, { recursive: true, force: true });
}
if (failed) {
  console.error(`test-locale-format: ${failed} failed, ${passed} passed`);
  process.exitCode = 1;
} else {
  console.log(`test-locale-format: ${passed} passed`);
}
