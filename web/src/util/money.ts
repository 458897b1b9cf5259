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

// Digits people write and see: IDR has cents in ISO 4217 (and in the API) but no
// coin below Rp 100 circulates, so amounts are shown and typed in whole rupiah.
const DISPLAY_DIGITS: Record<string, number> = { IDR: 0, VND: 0 };

export function displayDigits(currency: string): number {
  return Math.min(DISPLAY_DIGITS[currency] ?? minorUnits(currency), minorUnits(currency));
}

/** The decimal separator of a locale ("." in en-GB, "," in id-ID and vi-VN). */
export function decimalSeparator(locale: string): string {
  return (
    new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.'
  );
}

/** "0.00", "0,00" or "0": the amount field's placeholder. */
export function amountPlaceholder(currency: string, locale: string): string {
  const d = displayDigits(currency);
  return d ? `0${decimalSeparator(locale)}${'0'.repeat(d)}` : '0';
}

/** "1234" THB → "12.34" (no grouping, no symbol), with all the currency's minor digits. */
export function toMajorString(
  amount: number,
  currency: string,
  digits = minorUnits(currency),
): string {
  const neg = amount < 0;
  const s = String(Math.abs(Math.trunc(amount))).padStart(digits + 1, '0');
  const major = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return neg ? `-${major}` : major;
}

/**
 * Parses what a person typed into minor units, with the locale's decimal separator
 * (`decimal`, "." or ","); the other one and spaces may group thousands ("1,200.50",
 * "1.200,50", "25.000"). Currencies shown without decimals (VND, IDR) take whole
 * amounts, grouped by either mark. Returns null for anything that is not a
 * positive amount with at most the currency's displayed decimals.
 */
export function parseAmount(input: string, currency: string, decimal = '.'): number | null {
  const shown = displayDigits(currency);
  const scale = minorUnits(currency) - shown;
  const s = input.trim().replace(/[\s\u00a0\u202f_]/g, '');
  let whole: string;
  let frac = '';
  if (shown === 0) {
    if (!/^(\d+|\d{1,3}([.,]\d{3})+)$/.test(s)) return null;
    whole = s.replace(/[.,]/g, '');
  } else {
    const group = decimal === '.' ? ',' : '.';
    const [w = '', f, extra] = s.split(decimal);
    if (extra !== undefined || (f !== undefined && !/^\d*$/.test(f))) return null;
    const g = group === '.' ? '\\.' : ',';
    if (!new RegExp(`^(\\d+|\\d{1,3}(${g}\\d{3})+)$`).test(w)) return null;
    whole = w.split(group).join('');
    frac = f ?? '';
    if (frac.length > shown) return null;
  }
  const minor =
    (BigInt(whole) * 10n ** BigInt(shown) + BigInt(frac.padEnd(shown, '0') || '0')) *
    10n ** BigInt(scale);
  if (minor <= 0n || minor > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(minor);
}

/**
 * Localised display: "฿12.34", "Rp 150.000", "25.000 ₫", with the digits people
 * use (an IDR amount with cents, which the client never makes, keeps them).
 */
export function formatMoney(amount: number, currency: string, locale: string): string {
  const shown = displayDigits(currency);
  const whole = amount % 10 ** (minorUnits(currency) - shown) === 0;
  const digits = whole ? shown : minorUnits(currency);
  const major = toMajorString(
    whole ? amount / 10 ** (minorUnits(currency) - shown) : amount,
    currency,
    digits,
  );
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
