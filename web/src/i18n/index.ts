// Interface language: English and Thai. The choice is kept in localStorage and
// follows the user's profile locale when they have not picked one here.
import { en, type MessageKey, type Messages } from './en';
import { th } from './th';

export type Locale = 'en' | 'th';
export const LOCALES: { code: Locale; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'th', name: 'ไทย' },
];

const TABLES: Record<Locale, Messages> = { en, th };
const STORAGE_KEY = 'tchat.locale';

let current: Locale = initialLocale();
document.documentElement.lang = current;

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'th') return saved;
  return navigator.language.toLowerCase().startsWith('th') ? 'th' : 'en';
}

export function locale(): Locale {
  return current;
}

/** BCP 47 tag for Intl formatting (Thai with Gregorian years, as apps there do). */
export function intlLocale(): string {
  return current === 'th' ? 'th-TH-u-ca-gregory' : 'en-GB';
}

export function setLocale(l: Locale): void {
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
}

/** Adopts the profile's locale unless the user chose one on this device. */
export function adoptProfileLocale(profileLocale: string | null | undefined): void {
  if (localStorage.getItem(STORAGE_KEY)) return;
  if (profileLocale === 'th' || profileLocale === 'en') {
    current = profileLocale;
    document.documentElement.lang = current;
  }
}

/** The text for `key` with {placeholders} filled in. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = TABLES[current][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) =>
    params[name] !== undefined ? String(params[name]) : m,
  );
}

export type { MessageKey };
