// Phone numbers as people in each market write them: national format with the
// trunk "0" (none in Singapore) and the usual grouping. A number of another
// country, or of a length we do not know, stays in international form.
import { COUNTRIES } from './countries';

// Digit groups of the national number (trunk 0 included) by its length.
const GROUPS: Record<string, Record<number, number[]>> = {
  TH: { 9: [2, 3, 4], 10: [3, 3, 4] }, // 02 123 4567, 081 234 5678
  SG: { 8: [4, 4] }, // 8123 4567
  ID: { 10: [4, 3, 3], 11: [4, 4, 3], 12: [4, 4, 4], 13: [4, 4, 5] }, // 0812 3456 7890
  MY: { 10: [3, 3, 4], 11: [3, 4, 4] }, // 012 345 6789, 011 2345 6789
  PH: { 11: [4, 3, 4] }, // 0917 123 4567
  VN: { 10: [4, 3, 3] }, // 0912 345 678
};

function group(digits: string, sizes: number[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const n of sizes) {
    parts.push(digits.slice(at, at + n));
    at += n;
  }
  return parts.join(' ');
}

/**
 * "+66812345678" (or "0812345678" with region "TH") → "081 234 5678". A number
 * from another country than `region` is shown internationally: "+84 912 345 678".
 */
export function formatPhone(phone: string, region?: string | null): string {
  const raw = phone.replace(/[^\d+]/g, '');
  let country = COUNTRIES.find((c) => c.code === region);
  let national: string;
  if (raw.startsWith('+')) {
    const from = COUNTRIES.find((c) => raw.startsWith(c.dial));
    if (!from) return phone;
    national = raw.slice(from.dial.length);
    if (from !== country) {
      const local = formatNational(from.code, national);
      // International form: the country code, then the groups without the trunk 0.
      return local ? `${from.dial} ${local.replace(/^0/, '')}` : phone;
    }
    country = from;
  } else {
    if (!country) return phone;
    national = raw.replace(/^0/, '');
  }
  return formatNational(country.code, national) ?? phone;
}

function formatNational(region: string, subscriber: string): string | null {
  const trunk = region === 'SG' ? '' : '0';
  const digits = trunk + subscriber;
  const sizes = GROUPS[region]?.[digits.length];
  return sizes ? group(digits, sizes) : null;
}
