#!/usr/bin/env node
// Draws the app icons of the web app manifest (public/icons/*.png) from the SVG
// below, rendered by Debian's Chromium through playwright-core (no image tool
// needed). The drawing is the product's own: the brand-green square of
// public/favicon.svg with a white speech bubble holding the "T".
// Run after changing the drawing: node scripts/make-icons.mjs (the PNGs are committed).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public/icons');
const BRAND = '#0b8f6a';

/** @param {{maskable: boolean}} o the maskable variant fills the square and keeps the drawing in the safe circle */
function svg({ maskable }) {
  const bg = maskable
    ? `<rect width="512" height="512" fill="${BRAND}"/>`
    : `<rect width="512" height="512" rx="112" fill="${BRAND}"/>`;
  // Maskable icons may be cut to a circle of 80 % of the width: draw at 72 %.
  const scale = maskable ? 0.72 : 0.86;
  const shift = (512 * (1 - scale)) / 2;
  const bubble =
    'M96 120 h320 a40 40 0 0 1 40 40 v176 a40 40 0 0 1 -40 40 h-168 l-88 72 v-72 h-64 ' +
    'a40 40 0 0 1 -40 -40 v-176 a40 40 0 0 1 40 -40 z';
  const tee = 'M168 176 h176 v44 h-66 v124 h-44 v-124 h-66 z';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">${bg}
<g transform="translate(${shift} ${shift}) scale(${scale})"><path d="${bubble}" fill="#fff"/><path d="${tee}" fill="${BRAND}"/></g></svg>`;
}

const icons = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'maskable-512.png', size: 512, maskable: true },
  { file: 'apple-touch-icon.png', size: 180, maskable: true },
];

const browser = await chromium.launch({
  executablePath: process.env.TCHAT_CHROMIUM ?? '/usr/bin/chromium',
});
try {
  for (const icon of icons) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size } });
    const markup = svg(icon).replace(
      'width="512" height="512"',
      `width="${icon.size}" height="${icon.size}"`,
    );
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${markup}</body></html>`,
    );
    await page.screenshot({ path: path.join(OUT, icon.file), omitBackground: true });
    await page.close();
    console.log(`public/icons/${icon.file} (${icon.size}x${icon.size})`);
  }
  await writeFile(path.join(OUT, 'icon.svg'), svg({ maskable: false }) + '\n');
} finally {
  await browser.close();
}
