#!/usr/bin/env node
// @ts-check
// Attachments in the web client against a running Tchat stack (web/README.md),
// two contexts of Debian's Chromium: A (desktop) sends, B (phone) receives.
//
//   A attaches a JPEG that carries EXIF GPS (made here: a canvas picture with an
//   APP1 segment added) → both see the bubble at its final size with the
//   placeholder first, then the thumbnail (the box does not move) → B opens the
//   viewer (display size; Escape closes it and focus returns) and the served
//   bytes carry no EXIF → a slow upload shows its progress and is cancelled
//   (nothing is sent) → an upload cut off by a reload starts again by itself and
//   reaches B once → A sends a PDF, B downloads it byte for byte → A records a
//   voice note from Chromium's fake microphone (Opus in WebM or Ogg) → B sees its
//   duration and waveform and plays it → A sends a 2-second MP4 (made here with
//   ffmpeg) with a caption typed first: B sees its poster, duration and caption,
//   and a tap puts the player in its place → A picks five photos at once: B sees
//   them, in the order picked, as one grid (four tiles, "+1"), and the viewer
//   steps through all five with the arrow keys → B forwards the second photo from
//   the viewer to a chat with C: C sees it, served by the same media id (no new
//   upload) → axe finds no serious or critical violation on the grid and on the
//   forward dialog → no console errors.
//
// scripts/test.sh runs it as the suite "web client media (playwright)".
// Environment: as chat.e2e.mjs (TCHAT_TEST_GATEWAY_URL, TCHAT_WEB_ARTIFACTS,
// TCHAT_CHROMIUM, TCHAT_E2E_HEADED=1); screenshots are the media-* files:
// 01 phone photo, 02 desktop photo, 03 phone viewer, 04 desktop upload progress,
// 05 phone file, 06 desktop recording, 07 phone voice, 08 phone video, 09 phone
// grid, 10 desktop grid, 11 phone viewer in a grid, 12 phone forward dialog,
// 13 phone forwarded photo (C).
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { assertAccessible } from './pwa.mjs';
import { runSteps } from './run_steps.mjs';
import {
  ARTIFACTS,
  BASE,
  DESKTOP,
  PHONE,
  WAIT,
  check,
  launchBrowser,
  run,
  screenshot as shot,
  see,
  signIn,
  stepList,
} from './support.mjs';

/** @typedef {import('playwright-core').Page} Page */

const { steps, step } = stepList();

const phone = (/** @type {string} */ s) =>
  `08${run}${String(Math.floor(Math.random() * 100)).padStart(2, '0')}${s}`;
const alice = { phone: phone('5'), name: `Ann ${run}`, username: `ann_${run}` };
const bob = { phone: phone('6'), name: `Ben ${run}`, username: `ben_${run}` };
const cat = { phone: phone('7'), name: `Cat ${run}`, username: `cat_${run}` };

/** @type {import('playwright-core').Browser} */ let browser;
/** @type {Page} */ let a;
/** @type {Page} */ let b;
/** @type {Page} */ let c;
/** @type {Record<string, string[]>} */
const problems = { A: [], B: [], C: [] };

/** @param {Page} page @param {'A' | 'B' | 'C'} who */
function watch(page, who) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems[who]?.push(`console: ${msg.text()} (${page.url()})`);
  });
  page.on('pageerror', (err) => problems[who]?.push(`exception: ${err.message}`));
}

// ---- fixtures, made here ----

/** An EXIF APP1 segment (big-endian TIFF) with GPS latitude/longitude and a camera make. */
function exifSegment() {
  const make = Buffer.from('TchatCam\0');
  // IFD0: Make (0x010f, ASCII), GPSInfo (0x8825, LONG offset). GPS IFD: LatRef, Lat, LonRef, Lon.
  const ifd0At = 8;
  const ifd0Size = 2 + 2 * 12 + 4;
  const makeAt = ifd0At + ifd0Size;
  const gpsAt = makeAt + make.length + (make.length % 2);
  const gpsSize = 2 + 4 * 12 + 4;
  const latAt = gpsAt + gpsSize;
  const lonAt = latAt + 24;
  const tiff = Buffer.alloc(lonAt + 24);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(ifd0At, 4);
  /** @param {number} at @param {number} tag @param {number} type @param {number} count @param {number | Buffer} value */
  const entry = (at, tag, type, count, value) => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    if (Buffer.isBuffer(value)) value.copy(tiff, at + 8);
    else tiff.writeUInt32BE(value, at + 8);
  };
  tiff.writeUInt16BE(2, ifd0At);
  entry(ifd0At + 2, 0x010f, 2, make.length, makeAt);
  entry(ifd0At + 14, 0x8825, 4, 1, gpsAt);
  make.copy(tiff, makeAt);
  tiff.writeUInt16BE(4, gpsAt);
  entry(gpsAt + 2, 1, 2, 2, Buffer.from('N\0\0\0'));
  entry(gpsAt + 14, 2, 5, 3, latAt);
  entry(gpsAt + 26, 3, 2, 2, Buffer.from('E\0\0\0'));
  entry(gpsAt + 38, 4, 5, 3, lonAt);
  // 13° 45' 0" N, 100° 30' 0" E (Bangkok).
  [13, 1, 45, 1, 0, 1].forEach((v, k) => tiff.writeUInt32BE(v, latAt + 4 * k));
  [100, 1, 30, 1, 0, 1].forEach((v, k) => tiff.writeUInt32BE(v, lonAt + 4 * k));
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

/** A 1200×800 JPEG drawn on a canvas, with the EXIF segment right after SOI. @param {Page} page */
async function photoWithGps(page) {
  const b64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 1200;
    c.height = 800;
    const g = c.getContext('2d');
    if (!g) throw new Error('no 2d context');
    const grad = g.createLinearGradient(0, 0, 1200, 800);
    grad.addColorStop(0, '#0b8f6a');
    grad.addColorStop(1, '#f2c14e');
    g.fillStyle = grad;
    g.fillRect(0, 0, 1200, 800);
    g.fillStyle = '#fff';
    g.font = 'bold 120px sans-serif';
    g.fillText('Tchat', 380, 440);
    return c.toDataURL('image/jpeg', 0.9).split(',')[1] ?? '';
  });
  const jpeg = Buffer.from(b64, 'base64');
  check(jpeg[0] === 0xff && jpeg[1] === 0xd8, 'the canvas gave no JPEG');
  return Buffer.concat([jpeg.subarray(0, 2), exifSegment(), jpeg.subarray(2)]);
}

/** A small, valid one-page PDF. */
function pdf() {
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = objs.map((o, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The bytes a signed URL of an attachment serves, fetched in the page. @param {Page} page @param {string} id @param {string} key */
async function servedBytes(page, id, key) {
  const b64 = await page.evaluate(
    async ([mediaId, field]) => {
      const token = JSON.parse(localStorage.getItem('tchat.session') ?? '{}').accessToken;
      const m = await (
        await fetch(`/v1/media/${mediaId}`, { headers: { Authorization: `Bearer ${token}` } })
      ).json();
      const r = await fetch(m[field]);
      if (!r.ok) throw new Error(`GET ${field}: ${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      let s = '';
      for (const x of bytes) s += String.fromCharCode(x);
      return btoa(s);
    },
    [id, key],
  );
  return Buffer.from(b64, 'base64');
}

/** The attachment id of the newest message of the open chat with an attachment. @param {Page} page */
async function lastAttachmentId(page, type = 'image') {
  return page.evaluate(async (wanted) => {
    const token = JSON.parse(localStorage.getItem('tchat.session') ?? '{}').accessToken;
    const cid = location.pathname.split('/').pop();
    const r = await fetch(`/v1/conversations/${cid}/messages?limit=20`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const page = await r.json();
    const m = [...page.messages].reverse().find((/** @type {any} */ x) => x.type === wanted);
    return m?.attachment?.id ?? '';
  }, type);
}

/** A plain JPEG of w×h drawn on a canvas in `page`, in one colour with its number. @param {Page} page @param {number} w @param {number} h @param {string} colour @param {string} label */
async function canvasJpeg(page, w, h, colour, label) {
  const b64 = await page.evaluate(
    ([width, height, fill, text]) => {
      const cv = document.createElement('canvas');
      cv.width = Number(width);
      cv.height = Number(height);
      const g = cv.getContext('2d');
      if (!g) throw new Error('no 2d context');
      g.fillStyle = String(fill);
      g.fillRect(0, 0, cv.width, cv.height);
      g.fillStyle = '#fff';
      g.font = 'bold 160px sans-serif';
      g.fillText(String(text), 60, 200);
      return cv.toDataURL('image/jpeg', 0.85).split(',')[1] ?? '';
    },
    [w, h, colour, label],
  );
  return Buffer.from(b64, 'base64');
}

/** Waits until an upload's progress bar shows it part-way. @param {Page} page */
async function uploadUnderWay(page) {
  await page.waitForFunction(
    () => {
      const bar = document.querySelector('[data-testid=uploads] progress');
      return bar instanceof HTMLProgressElement && bar.value > 0 && bar.value < 1;
    },
    null,
    { timeout: WAIT },
  );
}

/** The attachment ids of the image messages of the open chat, oldest first. @param {Page} page */
async function imageIds(page) {
  return page.evaluate(async () => {
    const token = JSON.parse(localStorage.getItem('tchat.session') ?? '{}').accessToken;
    const cid = location.pathname.split('/').pop();
    const r = await fetch(`/v1/conversations/${cid}/messages?limit=50`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const list = (await r.json()).messages;
    return list
      .filter((/** @type {any} */ x) => x.type === 'image' && x.attachment?.id)
      .map((/** @type {any} */ x) => String(x.attachment.id));
  });
}

// ---- steps ----

let photo = Buffer.alloc(0);

step('A and B sign in; A starts a chat with B', async () => {
  await signIn(a, alice);
  await signIn(b, bob);
  await a.getByTestId('new-chat').click();
  await a.fill('#new-chat-who', bob.phone);
  await a.getByRole('button', { name: 'Start chat' }).click();
  await a.waitForURL(/\/c\/[0-9a-f-]+$/, { timeout: WAIT });
  await a.getByTestId('composer').fill('Photos coming');
  await a.getByTestId('composer').press('Enter');
  const row = b.locator('[data-testid=conversation-list] a').filter({ hasText: alice.name });
  await row.click({ timeout: WAIT });
  await see(b, '.msg.theirs .text', 'Photos coming');
});

step(
  'A sends a photo with EXIF GPS: B sees the placeholder, then the thumbnail, in a box that does not move',
  async () => {
    photo = await photoWithGps(a);
    check(photo.includes(Buffer.from('Exif\0\0', 'latin1')), 'the fixture has no EXIF');
    await a.getByTestId('attach-input').setInputFiles({
      name: 'beach.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    const mine = a.locator('.msg.mine [data-testid=att-image]').last();
    await mine.locator('.att-thumb.loaded').waitFor({ timeout: WAIT });
    const theirs = b.locator('.msg.theirs [data-testid=att-image]').last();
    await theirs.waitFor({ timeout: WAIT });
    const before = await theirs.boundingBox();
    check(!!before, 'no box for the photo');
    check(
      (await theirs.locator('.att-placeholder').getAttribute('src'))?.startsWith('data:image/') ??
        false,
      'no placeholder data URL on the bubble',
    );
    await theirs.locator('.att-thumb.loaded').waitFor({ timeout: WAIT });
    const after = await theirs.boundingBox();
    check(
      !!after && after.width === before?.width && after.height === before?.height,
      `the photo's box moved: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
    );
    // 1200×800 shown in at most 260×320: 260×173.
    check(
      Math.round(after?.width ?? 0) === 260 && Math.abs((after?.height ?? 0) - 173) <= 1,
      `box ${after?.width}×${after?.height}, wanted 260×173`,
    );
    const natural = await theirs
      .locator('.att-thumb')
      .evaluate((img) => [
        /** @type {HTMLImageElement} */ (img).naturalWidth,
        /** @type {HTMLImageElement} */ (img).naturalHeight,
      ]);
    check(
      natural[0] === 320 && natural[1] === 213,
      `thumbnail is ${natural.join('×')}, not 320×213`,
    );
    await shot(b, 'media-01-phone-photo');
    await shot(a, 'media-02-desktop-photo');
  },
);

step(
  'B opens the photo: the viewer shows the display size, Escape closes it, focus returns',
  async () => {
    const thumb = b.locator('.msg.theirs [data-testid=att-image]').last();
    await thumb.click();
    const viewer = b.getByTestId('media-viewer');
    await viewer.locator('.viewer-image.loaded').waitFor({ timeout: WAIT });
    const natural = await viewer
      .locator('.viewer-image')
      .evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth);
    check(natural === 1200, `display size is ${natural} wide, not 1200 (the photo's own width)`);
    await shot(b, 'media-03-phone-viewer');
    await b.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached', timeout: WAIT });
    const focused = await b.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    check(focused === 'att-image', `focus went to ${focused}, not back to the photo`);
  },
);

step('the photo as served to B carries no EXIF and no GPS', async () => {
  const id = await lastAttachmentId(b);
  check(!!id, 'no image message with an attachment id');
  for (const key of ['url', 'display_url', 'thumbnail_url']) {
    const bytes = await servedBytes(b, id, key);
    check(bytes[0] === 0xff && bytes[1] === 0xd8, `${key} is not a JPEG`);
    check(!bytes.includes(Buffer.from('Exif\0\0', 'latin1')), `${key} still has an EXIF segment`);
    check(!bytes.includes(Buffer.from('TchatCam')), `${key} still has the camera make`);
  }
});

step('a slow upload shows its progress and is cancelled: nothing is sent', async () => {
  const cdp = await a.context().newCDPSession(a);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 64 * 1024,
  });
  try {
    await a.getByTestId('attach-input').setInputFiles({
      name: 'big.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(3 << 20, 7),
    });
    const row = a.locator('[data-testid=uploads] .msg').filter({ hasText: 'big.bin' });
    await row.locator('progress').waitFor({ timeout: WAIT });
    await uploadUnderWay(a);
    await shot(a, 'media-04-desktop-upload-progress');
    await row.getByTestId('cancel-upload').click();
    await row.waitFor({ state: 'detached', timeout: WAIT });
  } finally {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await cdp.detach();
  }
  await b.waitForTimeout(1500);
  check(
    (await b.locator('[data-testid=att-file]').filter({ hasText: 'big.bin' }).count()) === 0,
    'the cancelled upload reached B',
  );
});

step('an upload cut off by a reload starts again by itself and is sent once', async () => {
  const cdp = await a.context().newCDPSession(a);
  await cdp.send('Network.enable');
  /** @param {number} up bytes per second, -1 for no limit */
  const throttle = (up) =>
    cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: up,
    });
  const data = Buffer.alloc(900 << 10, 'r');
  try {
    await throttle(64 * 1024);
    await a.getByTestId('attach-input').setInputFiles({
      name: 'reload.bin',
      mimeType: 'application/octet-stream',
      buffer: data,
    });
    await uploadUnderWay(a);
    await a.reload();
    await throttle(-1);
    // The upload is back after the reload (from IndexedDB) and goes through.
    await a
      .locator('[data-testid=uploads] .msg')
      .filter({ hasText: 'reload.bin' })
      .or(a.locator('.msg.mine [data-testid=att-file]').filter({ hasText: 'reload.bin' }))
      .first()
      .waitFor({ timeout: WAIT });
  } finally {
    await throttle(-1).catch(() => undefined);
    await cdp.detach().catch(() => undefined);
  }
  const card = b.locator('.msg.theirs [data-testid=att-file]').filter({ hasText: 'reload.bin' });
  await card.waitFor({ timeout: WAIT });
  await b.waitForTimeout(1500);
  check((await card.count()) === 1, `B got ${await card.count()} copies of reload.bin`);
  check(
    (await a.locator('[data-testid=uploads] .msg').count()) === 0,
    'an upload is still shown after it was sent',
  );
});

step('A sends a PDF: B sees the file card and downloads it byte for byte', async () => {
  const doc = pdf();
  await a.getByTestId('attach-input').setInputFiles({
    name: 'Trip plan.pdf',
    mimeType: 'application/pdf',
    buffer: doc,
  });
  const card = b.locator('.msg.theirs [data-testid=att-file]').filter({ hasText: 'Trip plan.pdf' });
  await card.waitFor({ timeout: WAIT });
  await see(b, '.msg.theirs [data-testid=att-file]', 'PDF');
  await see(b, '.msg.theirs [data-testid=att-file]', `${doc.length} byte`);
  const [download] = await Promise.all([
    b.waitForEvent('download', { timeout: WAIT }),
    card.getByTestId('att-download').click(),
  ]);
  check(
    download.suggestedFilename() === 'Trip plan.pdf',
    `downloaded as ${download.suggestedFilename()}`,
  );
  const got = await readFile(await download.path());
  check(got.equals(doc), `downloaded ${got.length} bytes, not the ${doc.length} sent`);
  await shot(b, 'media-05-phone-file');
});

step(
  'A records a voice note from the fake microphone; B sees its duration and waveform and plays it',
  async () => {
    await a.getByTestId('record-voice').click();
    await a.getByTestId('recorder').waitFor({ timeout: WAIT });
    await a.waitForFunction(
      () => (document.querySelector('[data-testid=recorder-time]')?.textContent ?? '') >= '0:03',
      null,
      { timeout: WAIT },
    );
    await shot(a, 'media-06-desktop-recording');
    await a.getByTestId('recorder-send').click();
    const voice = b.locator('.msg.theirs [data-testid=att-voice]').last();
    await voice.waitFor({ timeout: WAIT });
    const shown = (await voice.getByTestId('voice-duration').textContent()) ?? '';
    check(/^0:0[2-5]$/.test(shown), `voice note duration shown as "${shown}"`);
    const heights = await voice
      .locator('.bar')
      .evaluateAll((bars) => bars.map((x) => /** @type {HTMLElement} */ (x).style.height));
    check(heights.length > 8, `only ${heights.length} waveform bars`);
    check(new Set(heights).size > 1, 'the waveform is flat');
    await voice.getByRole('button', { name: 'Play voice note' }).click();
    await b.waitForFunction(
      () => document.querySelectorAll('.msg.theirs [data-testid=att-voice] .bar.played').length > 0,
      null,
      { timeout: WAIT },
    );
    await shot(b, 'media-07-phone-voice');
    const id = await lastAttachmentId(b, 'voice');
    const bytes = await servedBytes(b, id, 'url');
    const webm = bytes.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
    const ogg = bytes.subarray(0, 4).toString('latin1') === 'OggS';
    check(webm || ogg, 'the voice note is neither WebM nor Ogg');
  },
);

step(
  'A sends a video with a caption: B sees its poster, duration and caption; a tap starts the player',
  async () => {
    const file = path.join(os.tmpdir(), `tchat-e2e-${run}.mp4`);
    execFileSync('ffmpeg', [
      ...['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
      ...['-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file],
    ]);
    const buffer = await readFile(file);
    await rm(file, { force: true });
    // Text typed before attaching becomes the caption.
    await a.getByTestId('composer').fill('Our trip 🎬');
    await a
      .getByTestId('attach-input')
      .setInputFiles({ name: 'clip.mp4', mimeType: 'video/mp4', buffer });
    const video = b.locator('.msg.theirs [data-testid=att-video]').last();
    await video.locator('.att-thumb.loaded').waitFor({ timeout: WAIT });
    const box = await video.boundingBox();
    // 640×360 shown in at most 260×320: 260×146.
    check(
      Math.round(box?.width ?? 0) === 260 && Math.abs((box?.height ?? 0) - 146) <= 1,
      `video box ${box?.width}×${box?.height}, wanted 260×146`,
    );
    await see(b, '.msg.theirs [data-testid=att-video] .att-duration', '0:02');
    await see(b, '.msg.theirs .caption', 'Our trip 🎬');
    check(
      (await a.getByTestId('composer').inputValue()) === '',
      'the caption stayed in the composer',
    );
    await shot(b, 'media-08-phone-video');
    await video.getByRole('button', { name: 'Play video' }).click();
    const player = video.locator('video');
    await player.waitFor({ timeout: WAIT });
    const src = await player.getAttribute('src');
    check(!!src && src.startsWith('/media/'), `the player's source is ${src}`);
  },
);

/** Widths of the photos picked together (each one's display size is its own width). */
const GRID_WIDTHS = [900, 940, 980, 1020, 1060];

step(
  'A picks five photos at once: B sees them in order as one grid (+1); the viewer steps through them',
  async () => {
    const colours = ['#0b6e4f', '#9b2226', '#005f73', '#6a4c93', '#bb3e03'];
    const files = [];
    for (let i = 0; i < GRID_WIDTHS.length; i++) {
      const buffer = await canvasJpeg(
        a,
        GRID_WIDTHS[i] ?? 900,
        600,
        colours[i] ?? '#333',
        `${i + 1}`,
      );
      files.push({ name: `trip-${i + 1}.jpg`, mimeType: 'image/jpeg', buffer });
    }
    await a.getByTestId('attach-input').setInputFiles(files);
    const grid = b.locator('.msg.theirs [data-testid=photo-grid]').last();
    await grid.waitFor({ timeout: WAIT });
    // All five arrive as one grid (it re-forms as each message arrives).
    await b.waitForFunction(
      () => {
        const g = [...document.querySelectorAll('.msg.theirs [data-testid=photo-grid]')].pop();
        return g?.getAttribute('aria-label') === '5 photos';
      },
      null,
      { timeout: WAIT },
    );
    check((await grid.getByTestId('grid-tile').count()) === 4, 'the grid does not show 4 tiles');
    await see(b, '.msg.theirs [data-testid=photo-grid] .grid-more', '+1');
    for (const tile of await grid.locator('.att-thumb').all()) {
      await tile.and(b.locator('.loaded')).waitFor({ timeout: WAIT });
    }
    await a.locator('.msg.mine [data-testid=photo-grid][aria-label="5 photos"]').waitFor({
      timeout: WAIT,
    });
    await shot(b, 'media-09-phone-grid');
    await shot(a, 'media-10-desktop-grid');
    await assertAccessible(b, 'photo grid (phone)');
    await assertAccessible(a, 'photo grid (desktop)');

    await grid.getByTestId('grid-tile').first().click();
    const viewer = b.getByTestId('media-viewer');
    /** The viewer's counter and the natural width of the photo it shows. */
    const shown = async () => {
      await viewer.locator('.viewer-image.loaded').waitFor({ timeout: WAIT });
      return [
        (await viewer.locator('.viewer-counter').textContent()) ?? '',
        await viewer
          .locator('.viewer-image')
          .evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth),
      ];
    };
    for (let i = 0; i < GRID_WIDTHS.length; i++) {
      const [counter, width] = await shown();
      check(counter === `Photo ${i + 1} of 5`, `the viewer says "${counter}" at photo ${i + 1}`);
      check(width === GRID_WIDTHS[i], `photo ${i + 1} is ${width} wide, not ${GRID_WIDTHS[i]}`);
      if (i === 1) await shot(b, 'media-11-phone-grid-viewer');
      if (i < GRID_WIDTHS.length - 1) await b.keyboard.press('ArrowRight');
    }
    await b.keyboard.press('ArrowLeft');
    check((await shown())[0] === 'Photo 4 of 5', 'ArrowLeft did not go back');
    await b.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached', timeout: WAIT });
  },
);

step(
  'B forwards a photo of the grid to a chat with C: C sees it, the same media, no new upload',
  async () => {
    const ids = await imageIds(b);
    check(ids.length >= 6, `only ${ids.length} photos in the chat with A`);
    const chatWithA = b.url();
    await signIn(c, cat);
    // On the phone the chat list (with New chat) is its own screen.
    await b.goto(`${BASE}/`);
    await b.getByTestId('new-chat').click();
    await b.fill('#new-chat-who', cat.phone);
    await b.getByRole('button', { name: 'Start chat' }).click();
    await b.waitForURL((u) => u.href !== chatWithA && /\/c\/[0-9a-f-]+$/.test(u.pathname), {
      timeout: WAIT,
    });
    await b.goto(chatWithA);
    const grid = b.locator('.msg.theirs [data-testid=photo-grid]').last();
    await grid.getByTestId('grid-tile').nth(1).click();
    const viewer = b.getByTestId('media-viewer');
    await viewer.locator('.viewer-image.loaded').waitFor({ timeout: WAIT });
    await viewer.getByTestId('viewer-forward').click();
    const dialog = b.getByTestId('forward-dialog');
    await dialog.waitFor({ timeout: WAIT });
    await shot(b, 'media-12-phone-forward-dialog');
    await assertAccessible(b, 'forward dialog (phone)');
    await dialog.locator('.forward-target').filter({ hasText: cat.name }).click();
    await dialog.waitFor({ state: 'detached', timeout: WAIT });

    const row = c.locator('[data-testid=conversation-list] a').filter({ hasText: bob.name });
    await row.click({ timeout: WAIT });
    const photo = c.locator('.msg.theirs [data-testid=att-image]').last();
    await photo.locator('.att-thumb.loaded').waitFor({ timeout: WAIT });
    await shot(c, 'media-13-phone-forwarded');
    const got = await imageIds(c);
    check(got.length === 1, `C has ${got.length} photos, not 1`);
    // The second photo of the grid: the sixth image of the chat with A.
    const second = ids[ids.length - GRID_WIDTHS.length + 1];
    check(got[0] === second, `C got media ${got[0]}, not the forwarded ${second}`);
    await photo.click();
    const natural = await c
      .getByTestId('media-viewer')
      .locator('.viewer-image.loaded')
      .evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth, null, {
        timeout: WAIT,
      });
    check(natural === GRID_WIDTHS[1], `C's photo is ${natural} wide, not ${GRID_WIDTHS[1]}`);
    await c.keyboard.press('Escape');
  },
);

step('no console errors or uncaught exceptions in either browser', async () => {
  const all = Object.entries(problems).flatMap(([who, list]) => list.map((p) => `${who}: ${p}`));
  check(all.length === 0, `console errors:\n  ${all.join('\n  ')}`);
});

async function main() {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ]);
  const common = { locale: 'en-GB', timezoneId: 'Asia/Bangkok', acceptDownloads: true };
  const ctxA = await browser.newContext({ ...common, ...DESKTOP });
  await ctxA.grantPermissions(['microphone'], { origin: BASE });
  const ctxB = await browser.newContext({ ...common, ...PHONE });
  const ctxC = await browser.newContext({ ...common, ...PHONE });
  a = await ctxA.newPage();
  b = await ctxB.newPage();
  c = await ctxC.newPage();
  watch(a, 'A');
  watch(b, 'B');
  watch(c, 'C');
  await runSteps('web client media', steps, async () => {
    await shot(a, 'media-failure-desktop');
    await shot(b, 'media-failure-phone');
  });
  await browser.close();
  console.log(`screenshots: ${ARTIFACTS}`);
}

main().catch(async (err) => {
  console.log(`FAIL: ${err instanceof Error ? err.stack : err}`);
  await browser?.close().catch(() => undefined);
  process.exitCode = 1;
});
