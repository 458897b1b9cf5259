// An attachment inside a message bubble: a photo (placeholder, then the
// thumbnail; a tap opens the display size in a viewer), a video (its poster;
// a tap plays it), a voice note (play, waveform with seeking, duration) or a
// file (name, size, type, download). The box of a photo or video has its final
// size from the first frame (width and height of the attachment), so nothing
// below it moves when the picture arrives. Signed URLs come from
// GET /v1/media/{id} (MediaApi.describe) only when needed. Several photos sent
// together show as one grid (photoGrid); the viewer steps through its photos.
import type { Attachment, Media } from '../../api/media';
import { intlLocale, t, tn } from '../../i18n';
import { h, replaceChildren } from '../../util/dom';
import { openDialog } from '../components/dialog';
import './attachment.css';
import type { Ctx } from '../context';

/** The largest box a photo or video takes in a bubble (CSS pixels). */
const BOX_W = 260;
const BOX_H = 320;

/** Scales (w, h) down into BOX_W × BOX_H, keeping the aspect ratio. */
export function fitBox(w = 4, hgt = 3, maxW = BOX_W, maxH = BOX_H): { w: number; h: number } {
  const scale = Math.min(1, maxW / w, maxH / hgt);
  return { w: Math.max(48, Math.round(w * scale)), h: Math.max(48, Math.round(hgt * scale)) };
}

/** What the viewer offers for the photo on screen (forward: ChatView's picker). */
export interface ViewerActions {
  forward?(a: Attachment): void;
}

export function attachmentView(ctx: Ctx, a: Attachment, actions: ViewerActions = {}): HTMLElement {
  const kind = a.kind ?? (a.mime_type?.startsWith('image/') ? 'image' : 'file');
  if (kind === 'image') return imageView(ctx, a, actions);
  if (kind === 'video') return videoView(ctx, a);
  if (kind === 'voice') return voiceView(ctx, a);
  return fileView(ctx, a);
}

/** Signed URLs for an upload; an outside link (no id) is used as it is. */
function describe(ctx: Ctx, a: Attachment): Promise<Media | null> {
  if (!a.id) return Promise.resolve(null);
  return ctx.media.describe(a.id);
}

function boxStyle(a: Attachment): string {
  const box = fitBox(a.width, a.height);
  return `width:${box.w}px;height:${box.h}px`;
}

/** The blurred placeholder under the picture (decorative). */
function placeholder(a: Attachment): HTMLElement | null {
  return a.placeholder
    ? h('img', { class: 'att-placeholder', src: a.placeholder, alt: '', 'aria-hidden': 'true' })
    : null;
}

/** An <img> that fades in over the placeholder once loaded. */
function lateImage(src: Promise<string | null>, alt: string, cls: string): HTMLImageElement {
  const img = h('img', { class: cls, alt, decoding: 'async' });
  img.addEventListener('load', () => img.classList.add('loaded'));
  void src.then(
    (url) => {
      if (url) img.src = url;
    },
    () => img.classList.add('broken'),
  );
  return img;
}

function imageView(ctx: Ctx, a: Attachment, actions: ViewerActions): HTMLElement {
  const thumb = describe(ctx, a).then((m) => m?.thumbnail_url ?? m?.url ?? a.url);
  return h(
    'button',
    {
      type: 'button',
      class: 'att-image',
      style: boxStyle(a),
      'aria-label': t('media.openPhoto'),
      'data-testid': 'att-image',
      onClick: () => openViewer(ctx, [a], 0, actions),
    },
    placeholder(a),
    lateImage(thumb, '', 'att-thumb'),
  );
}

/** Tiles a grid shows; beyond, the last one says "+N". */
const GRID_TILES = 4;

/**
 * Several photos of one sender sent together: 2 side by side, 3 as one wide
 * over two, 4 or more as 2×2 with "+N" on the fourth. A tile opens the viewer
 * at its photo; `seqs` (one per photo) mark the tiles for jumps to a message.
 */
export function photoGrid(
  ctx: Ctx,
  photos: Attachment[],
  seqs: number[],
  actions: ViewerActions = {},
): HTMLElement {
  const count = photos.length;
  const shown = photos.slice(0, GRID_TILES);
  const more = count - shown.length;
  const tiles = shown.map((a, i) => {
    const thumb = describe(ctx, a).then((m) => m?.thumbnail_url ?? m?.url ?? a.url);
    const last = i === shown.length - 1 && more > 0;
    return h(
      'button',
      {
        type: 'button',
        class: `att-image grid-tile${i === 0 && count === 3 ? ' wide' : ''}`,
        'aria-label': last
          ? `${t('media.photoOf', { index: i + 1, count })}, ${tn('media.morePhotos', more)}`
          : t('media.photoOf', { index: i + 1, count }),
        'data-testid': 'grid-tile',
        'data-seq': seqs[i] ?? null,
        onClick: () => openViewer(ctx, photos, i, actions),
      },
      placeholder(a),
      lateImage(thumb, '', 'att-thumb'),
      last ? h('span', { class: 'grid-more', 'aria-hidden': 'true' }, `+${more}`) : null,
    );
  });
  return h(
    'div',
    {
      class: `att-grid n${Math.min(count, GRID_TILES)}`,
      role: 'group',
      'aria-label': tn('media.photoGrid', count),
      'data-testid': 'photo-grid',
    },
    tiles,
  );
}

/**
 * The photos at their display size in a modal dialog (Escape closes, focus
 * returns); with several, ← and → (or the buttons) step through them.
 */
export function openViewer(
  ctx: Ctx,
  photos: Attachment[],
  start: number,
  actions: ViewerActions = {},
): void {
  let index = Math.max(0, Math.min(start, photos.length - 1));
  const stage = h('div', { class: 'viewer-stage' });
  const counter = h('p', { class: 'viewer-counter muted', 'aria-live': 'polite' });
  const show = () => {
    const a = photos[index]!;
    const box = fitBox(
      a.width,
      a.height,
      Math.min(1600, window.innerWidth - 48),
      window.innerHeight - 180,
    );
    const full = describe(ctx, a).then((m) => m?.display_url ?? m?.url ?? a.url);
    replaceChildren(
      stage,
      h(
        'div',
        { class: 'viewer-body', style: `width:${box.w}px;height:${box.h}px` },
        placeholder(a),
        lateImage(full, t('media.photo'), 'viewer-image'),
      ),
    );
    counter.textContent =
      photos.length > 1 ? t('media.photoOf', { index: index + 1, count: photos.length }) : '';
    prev.disabled = index === 0;
    next.disabled = index === photos.length - 1;
  };
  const step = (by: number) => {
    const to = index + by;
    if (to < 0 || to >= photos.length) return;
    index = to;
    show();
  };
  const prev = h(
    'button',
    {
      type: 'button',
      class: 'icon-button',
      'aria-label': t('media.previousPhoto'),
      title: t('media.previousPhoto'),
      'data-testid': 'viewer-prev',
      onClick: () => step(-1),
    },
    '‹',
  );
  const next = h(
    'button',
    {
      type: 'button',
      class: 'icon-button',
      'aria-label': t('media.nextPhoto'),
      title: t('media.nextPhoto'),
      'data-testid': 'viewer-next',
      onClick: () => step(1),
    },
    '›',
  );
  const forward = actions.forward
    ? h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          'data-testid': 'viewer-forward',
          onClick: () => {
            const a = photos[index]!;
            handle.close();
            actions.forward!(a);
          },
        },
        t('media.forward'),
      )
    : null;
  const several = photos.length > 1;
  const bar = h(
    'div',
    { class: 'viewer-bar' },
    several ? prev : null,
    counter,
    several ? next : null,
    forward,
  );
  const body = h('div', { class: 'viewer' }, stage, several || forward ? bar : null);
  show();
  const handle = openDialog(t('media.photo'), body);
  handle.dialog.classList.add('media-viewer');
  handle.dialog.setAttribute('data-testid', 'media-viewer');
  handle.dialog.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') step(-1);
    else if (e.key === 'ArrowRight') step(1);
    else return;
    e.preventDefault();
  });
}

function videoView(ctx: Ctx, a: Attachment): HTMLElement {
  const poster = describe(ctx, a).then((m) => m?.thumbnail_url ?? null);
  const el = h(
    'div',
    { class: 'att-video', style: boxStyle(a), 'data-testid': 'att-video' },
    placeholder(a),
    lateImage(poster, '', 'att-thumb'),
  );
  const play = h(
    'button',
    {
      type: 'button',
      class: 'att-play',
      // The duration shown on the button is part of its name (WCAG 2.5.3).
      'aria-label': a.duration_ms
        ? `${t('media.playVideo')} ${duration(a.duration_ms)}`
        : t('media.playVideo'),
      onClick: async () => {
        const m = await describe(ctx, a).catch(() => null);
        if (!m) return ctx.toast(t('media.unavailable'), 'error');
        const video = h('video', {
          class: 'att-player',
          src: m.url,
          poster: m.thumbnail_url ?? null,
          controls: true,
          autoplay: true,
          playsinline: true,
          preload: 'metadata',
        });
        replaceChildren(el, video);
        video.focus();
      },
    },
    h('span', { class: 'att-play-icon', 'aria-hidden': 'true' }, '▶'),
    a.duration_ms ? h('span', { class: 'att-duration' }, duration(a.duration_ms)) : null,
  );
  el.append(play);
  return el;
}

function voiceView(ctx: Ctx, a: Attachment): HTMLElement {
  const total = (a.duration_ms ?? 0) / 1000;
  const levels = a.waveform?.length ? a.waveform : new Array<number>(32).fill(0.2);
  const bars = levels.map((v) =>
    h('span', { class: 'bar', style: `height:${Math.round(12 + Math.min(1, v) * 88)}%` }),
  );
  const time = h(
    'span',
    { class: 'att-duration', 'data-testid': 'voice-duration' },
    duration(total * 1000),
  );
  const seek = h('input', {
    type: 'range',
    class: 'seek',
    min: 0,
    max: Math.max(total, 0.1),
    step: 0.1,
    value: '0',
    'aria-label': t('media.seek'),
  });
  const button = h(
    'button',
    { type: 'button', class: 'icon-button att-voice-play', 'aria-label': t('media.play') },
    '▶',
  );
  let audio: HTMLAudioElement | null = null;
  const paint = () => {
    const at = audio?.currentTime ?? 0;
    const length = audio && Number.isFinite(audio.duration) ? audio.duration : total;
    const played = length > 0 ? at / length : 0;
    bars.forEach((b, i) => b.classList.toggle('played', i / bars.length < played));
    seek.value = String(at);
    time.textContent = duration((audio && !audio.paused ? at : length || total) * 1000);
  };
  const ensure = async (): Promise<HTMLAudioElement | null> => {
    if (audio) return audio;
    const m = await describe(ctx, a).catch(() => null);
    if (!m) {
      ctx.toast(t('media.unavailable'), 'error');
      return null;
    }
    audio = new Audio(m.url);
    audio.preload = 'auto';
    audio.addEventListener('timeupdate', paint);
    audio.addEventListener('play', () => setPlaying(true));
    audio.addEventListener('pause', () => setPlaying(false));
    audio.addEventListener('ended', () => {
      setPlaying(false);
      paint();
    });
    return audio;
  };
  const setPlaying = (on: boolean) => {
    button.textContent = on ? '❚❚' : '▶';
    button.setAttribute('aria-label', on ? t('media.pause') : t('media.play'));
    el.classList.toggle('playing', on);
  };
  button.addEventListener('click', async () => {
    const p = await ensure();
    if (!p) return;
    if (p.paused) await p.play().catch(() => ctx.toast(t('media.unavailable'), 'error'));
    else p.pause();
  });
  seek.addEventListener('input', async () => {
    const p = await ensure();
    if (p) p.currentTime = Number(seek.value);
    paint();
  });
  const el = h(
    'div',
    { class: 'att-voice', 'data-testid': 'att-voice' },
    button,
    h('div', { class: 'wave' }, h('div', { class: 'bars', 'aria-hidden': 'true' }, bars), seek),
    time,
  );
  return el;
}

function fileView(ctx: Ctx, a: Attachment): HTMLElement {
  const name = a.filename ?? a.name ?? t('media.file');
  const type = typeLabel(a.content_type ?? a.mime_type, name);
  const details = [a.size !== undefined ? fileSize(a.size) : null, type]
    .filter(Boolean)
    .join(' · ');
  return h(
    'div',
    { class: 'att-file', 'data-testid': 'att-file' },
    h('span', { class: 'att-file-icon', 'aria-hidden': 'true' }, type.slice(0, 4) || '📄'),
    h(
      'div',
      { class: 'att-file-text' },
      h('span', { class: 'att-file-name' }, name),
      h('span', { class: 'att-file-details muted' }, details),
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        'aria-label': t('media.download', { name }),
        title: t('media.download', { name }),
        'data-testid': 'att-download',
        onClick: async () => {
          const m = await describe(ctx, a).catch(() => null);
          const href = m?.url ?? (a.id ? null : a.url);
          if (!href) return ctx.toast(t('media.unavailable'), 'error');
          // Served with Content-Disposition: attachment, so the page stays.
          const link = h('a', { href, download: name, hidden: true });
          document.body.append(link);
          link.click();
          link.remove();
        },
      },
      '⬇',
    ),
  );
}

/** "0:07", "12:30". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** "820 B", "1.4 MB" in the interface's language. */
export function fileSize(bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return new Intl.NumberFormat(intlLocale(), {
    style: 'unit',
    unit: units[i],
    unitDisplay: 'short',
    maximumFractionDigits: i ? 1 : 0,
  }).format(v);
}

/** "PDF", "TXT", "ZIP": from the name's extension, else the type's subtype. */
function typeLabel(contentType: string | undefined, name: string): string {
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1];
  if (ext) return ext.toUpperCase();
  const sub = contentType?.split(';')[0]?.split('/')[1];
  return sub && sub !== 'octet-stream' ? sub.toUpperCase() : '';
}
