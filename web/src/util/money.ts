import { parseConfirmThresholds } from './confirm-thresholds';

// Money is an integer amount in the currency's ISO 4217 minor units (docs/api/openapi.yaml);
// the client never turns it into a float: parsing and formatting work on strings.

export const CURRENCIES = ['THB', 'SGD', 'IDR', 'MYR', 'PHP', 'VND', 'USD'] as const;
export type Currency = (typeof CURRENCIES)[number];

const MINOR_UNITS: Record<string, number> = {
  THB: 2,
  SGD: 2,
  IDR: 2,
  MYR: 2,
  PHP: 2,
  VND: 0,
  USD: 2,
};

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

// A money move above this amount (minor units) asks the sender to confirm it first:
// a slip of the finger (an extra zero) should not move a week's wages. About USD 100
// in each currency by default; a build can set its own with VITE_MONEY_CONFIRM_ABOVE,
// e.g. "THB=300000,USD=10000" (currencies it does not name keep the default).
const DEFAULT_CONFIRM_ABOVE: Record<string, number> = {
  THB: 300_000,
  SGD: 15_000,
  IDR: 150_000_000,
  MYR: 50_000,
  PHP: 500_000,
  VND: 2_500_000,
  USD: 10_000,
};

const CONFIRM_ABOVE: Record<string, number> = {
  ...DEFAULT_CONFIRM_ABOVE,
  ...parseConfirmThresholds(String(import.meta.env.VITE_MONEY_CONFIRM_ABOVE ?? '')),
};

/** Whether moving `amount` (minor units) of `currency` needs an explicit confirmation. */
export function needsConfirmation(amount: number, currency: string): boolean {
  const limit = CONFIRM_ABOVE[currency];
  return limit === undefined || amount > limit;
}

/** "1234" THB → "12.34" (no grouping, no symbol): for input fields. */
export function toMajorString(amount: number, currency: string): string {
  const digits = minorUnits(currency);
  const neg = amount < 0;
  const s = String(Math.abs(Math.trunc(amount))).padStart(digits + 1, '0');
  const major = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return neg ? `-${major}` : major;
}

/**
 * Parses what a person typed ("12", "12.5", "1,200.00") into minor units.
 * Returns null for anything that is not a positive amount with at most the
 * currency's number of decimals.
 */
export function parseAmount(input: string, currency: string): number | null {
  const digits = minorUnits(currency);
  const s = input.trim().replace(/[,\s_]/g, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  const minor = BigInt(m[1]!) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
  if (minor <= 0n || minor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(minor);
}

/** Localised display: "฿12.34", "Rp 1.000,00", with the currency's minor digits. */
export function formatMoney(amount: number, currency: string, locale: string): string {
  const digits = minorUnits(currency);
  const major = toMajorString(amount, currency);
  try {
    // Intl takes a string here (Intl.NumberFormat v3), which keeps large amounts exact;
    // the cast covers TypeScript's older lib typing.
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      // "฿12.34" rather than "THB 12.34": the symbol people see in shops.
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major as unknown as number);
  } catch {
    return `${major} ${currency}`;
  }
}
