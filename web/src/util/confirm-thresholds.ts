// The build setting VITE_MONEY_CONFIRM_ABOVE (README.md, "Confirming large money
// moves"). Its own module, free of browser and Vite globals, so that vite.config.ts
// checks the setting at build time with the same parser the page uses.

/** Parses "THB=300000,USD=10000"; an entry that is not CURRENCY=whole number throws. */
export function parseConfirmThresholds(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([A-Z]{3})=(\d{1,15})$/.exec(part);
    if (!m) throw new Error(`VITE_MONEY_CONFIRM_ABOVE: "${part}" is not CURRENCY=minor_units`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
