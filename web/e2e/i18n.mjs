// @ts-check
// The client's own texts for the browser tests that run in another language
// (screens.e2e.mjs with TCHAT_E2E_LANG): src/i18n/<lang>.ts, turned into
// JavaScript with the TypeScript compiler (a devDependency), so that the test
// clicks and expects exactly what the client shows, and a key missing from the
// language falls back to English as t() does (a marker check then finds none).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/i18n');

/** A module of src/i18n/ (`name`.ts), turned into JavaScript and imported. @param {string} name */
async function load(name) {
  const source = await readFile(path.join(DIR, `${name}.ts`), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  return import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`);
}

/** The BCP 47 tags the client formats with (src/i18n/intl-tags.ts). */
export const INTL_TAGS = /** @type {Record<'en' | 'th' | 'id' | 'ms' | 'fil' | 'vi', string>} */ (
  (await load('intl-tags')).INTL_TAGS
);

/** @param {string} lang */
async function table(lang) {
  return /** @type {Record<string, any>} */ ((await load(lang))[lang]);
}

/** @param {string} text @param {Record<string, string | number>} [params] */
function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) =>
    params[name] !== undefined ? String(params[name]) : m,
  );
}

/**
 * t(key, params), tn(key, count, params) and money(minor units, currency) as the
 * client words and formats them in `lang`.
 * @param {keyof typeof INTL_TAGS} lang
 */
export async function texts(lang) {
  const en = await table('en');
  const own = lang === 'en' ? en : await table(lang);
  const tag = INTL_TAGS[lang];
  const plurals = new Intl.PluralRules(tag);
  /** @param {string} key @param {Record<string, string | number>} [params] */
  const t = (key, params) => {
    const text = own[key] ?? en[key];
    if (typeof text !== 'string') throw new Error(`no text ${key}`);
    return fill(text, params);
  };
  /** @param {string} key @param {number} count @param {Record<string, string | number>} [params] */
  const tn = (key, count, params) => {
    const forms = own[key] ?? en[key];
    const text = forms[plurals.select(count)] ?? forms.other;
    return fill(text, { ...params, count: new Intl.NumberFormat(tag).format(count) });
  };
  /** Two-decimal currencies only (what the screens test moves: THB). @param {number} minor @param {string} currency */
  const money = (minor, currency) =>
    new Intl.NumberFormat(tag, {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(minor / 100);
  return { t, tn, money, tag };
}

/** A RegExp for `text` that takes any kind of space where it has one. @param {string} text */
export function loose(text) {
  return new RegExp(
    text
      .trim()
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/[\s\u00a0\u202f]+/g, '[\\s\\u00a0\\u202f]+'),
  );
}

/** A RegExp of every message key (a key shown instead of its text is a missing translation). */
export async function keyPattern() {
  const keys = Object.keys(await table('en')).map((k) => k.replace(/\./g, '\\.'));
  return new RegExp(`(?<![\\w.])(${keys.join('|')})(?![\\w.])`);
}

/**
 * Fails when the page shows a message key: its text, labels, placeholders, titles.
 * @param {import('playwright-core').Page} page @param {string} where @param {RegExp} pattern
 */
export async function assertNoKeys(page, where, pattern) {
  const shown = await page.evaluate(() => {
    const parts = [document.body.innerText];
    for (const el of document.querySelectorAll('[aria-label],[placeholder],[title],[alt]')) {
      for (const a of ['aria-label', 'placeholder', 'title', 'alt']) {
        parts.push(el.getAttribute(a) ?? '');
      }
    }
    return parts.join('\n');
  });
  const m = pattern.exec(shown);
  if (m) throw new Error(`${where}: untranslated key "${m[0]}" on the page`);
}
