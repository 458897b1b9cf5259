// Interface language: English (bundled, the source of the keys), Thai, Indonesian,
// Malay, Filipino and Vietnamese (each its own chunk, loaded when chosen). The first
// visit follows the browser's languages; a choice is kept in localStorage and in
// the profile (`locale`, docs/api/openapi.yaml, auth), which wins at sign-in.
// GLOSSARY.md holds the product's words in every language.
import { en, type MessageKey, type Messages, type PluralKey, type TextKey } from './en';
import { INTL_TAGS } from './intl-tags';

export type Locale = 'en' | 'th' | 'id' | 'ms' | 'fil' | 'vi';
export const LOCALES: { code: Locale; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'th', name: 'ไทย' },
  { code: 'id', name: 'Bahasa Indonesia' },
  { code: 'ms', name: 'Bahasa Melayu' },
  { code: 'fil', name: 'Filipino' },
  { code: 'vi', name: 'Tiếng Việt' },
];

// One dynamic import per language: Vite makes each a separate chunk.
const LOADERS: Record<Exclude<Locale, 'en'>, () => Promise<Messages>> = {
  th: () => import('./th').then((m) => m.th),
  id: () => import('./id').then((m) => m.id),
  ms: () => import('./ms').then((m) => m.ms),
  fil: () => import('./fil').then((m) => m.fil),
  vi: () => import('./vi').then((m) => m.vi),
};

const STORAGE_KEY = 'tchat.locale';
const tables: Partial<Record<Locale, Messages>> = { en };
let current: Locale = 'en';
let table: Messages = en;
let plurals = new Intl.PluralRules(INTL_TAGS.en);
/** Set when the person picks a language while signed out (applied to the profile). */
let pickedSignedOut = false;

export function isLocale(s: unknown): s is Locale {
  return typeof s === 'string' && LOCALES.some((l) => l.code === s);
}

/** The first of the browser's languages that the client speaks ("tl" is Filipino too). */
export function browserLocale(langs: readonly string[]): Locale {
  for (const tag of langs) {
    const base = tag.toLowerCase().split('-')[0] ?? '';
    if (base === 'tl') return 'fil';
    // Malay is also written "zsm"; Indonesian's old code is "in".
    if (base === 'zsm') return 'ms';
    if (base === 'in') return 'id';
    if (isLocale(base)) return base;
  }
  return 'en';
}

/** Loads the saved language, else the browser's; call before the first render. */
export async function initLocale(): Promise<void> {
  const saved = localStorage.getItem(STORAGE_KEY);
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  await apply(isLocale(saved) ? saved : browserLocale(langs));
}

export function locale(): Locale {
  return current;
}

export function intlLocale(): string {
  return INTL_TAGS[current];
}

async function apply(l: Locale): Promise<void> {
  let t = tables[l];
  if (!t) {
    try {
      t = await LOADERS[l as Exclude<Locale, 'en'>]();
      tables[l] = t;
    } catch {
      // A chunk that cannot load (offline, new deployment) leaves the language as it was.
      return;
    }
  }
  current = l;
  table = t;
  plurals = new Intl.PluralRules(INTL_TAGS[l]);
  document.documentElement.lang = l;
}

/** The person's choice: kept on this device; `signedOut` marks it for the profile. */
export async function setLocale(l: Locale, signedOut = false): Promise<void> {
  await apply(l);
  localStorage.setItem(STORAGE_KEY, current);
  if (signedOut) pickedSignedOut = true;
}

/**
 * At sign-in: a language picked on the sign-in screen (or the one a new account
 * starts with) goes to the profile — returned so the caller saves it; otherwise the
 * profile's language is adopted. Returns null when the profile needs no change.
 */
export async function syncWithProfile(
  profileLocale: string | null | undefined,
  isNewAccount: boolean,
): Promise<Locale | null> {
  if (pickedSignedOut || isNewAccount || !isLocale(profileLocale)) {
    pickedSignedOut = false;
    return profileLocale === current ? null : current;
  }
  if (profileLocale !== current) await setLocale(profileLocale);
  return null;
}

function fill(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) =>
    params[name] !== undefined ? String(params[name]) : m,
  );
}

/** The text for `key` with {placeholders} filled in. */
export function t(key: TextKey, params?: Record<string, string | number>): string {
  return fill(table[key] ?? en[key] ?? key, params);
}

/** The form of `key` for `count` by the language's plural rules; {count} is localised. */
export function tn(
  key: PluralKey,
  count: number,
  params?: Record<string, string | number>,
): string {
  const forms = table[key] ?? en[key];
  const category = plurals.select(count) as keyof typeof forms;
  const text = forms[category] ?? forms.other;
  return fill(text, { ...params, count: new Intl.NumberFormat(INTL_TAGS[current]).format(count) });
}

export type { MessageKey, PluralKey, TextKey };
