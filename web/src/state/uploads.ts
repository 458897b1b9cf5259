// Attachments on their way to the server (POST /v1/media), per conversation. Each
// shows as a bubble with its progress and a cancel button; once stored, the
// upload becomes a message in the outbox (Messenger.sendMedia), which sends and
// retries it like text. A failed upload stays with a retry button. The files of
// uploads in progress are kept in IndexedDB (upload-store.ts): after a reload
// restore() starts them again from the beginning; the message, once queued, is
// the outbox's (localStorage), and an upload whose message was queued is never
// started again (DONE_KEY).
import { ApiError } from '../api/errors';
import { UploadAborted, type Attachment, type Media, type MediaApi } from '../api/media';
import { Emitter } from '../util/emitter';
import { newId } from '../util/ids';
import type { Messenger } from './messenger';
import { forgetUpload, saveUpload, storedUploads } from './upload-store';

/** Uploads whose message is queued but whose stored file may not be deleted yet. */
const DONE_KEY = 'tchat.uploads.done';

export type AttachmentKind = 'image' | 'voice' | 'video' | 'file';

export interface UploadItem {
  id: string;
  conversationId: string;
  /** What the bubble shows until the server has sniffed the bytes. */
  kind: AttachmentKind;
  name: string;
  size: number;
  sent: number;
  state: 'uploading' | 'failed';
  error: ApiError | Error | null;
  /** An object URL of a photo, for the bubble while it uploads. */
  previewUrl: string | null;
  width?: number;
  height?: number;
  durationMs?: number;
  /** Sent as the message's body. */
  caption: string;
}

interface Entry {
  item: UploadItem;
  file: Blob;
  abort: (() => void) | null;
  /** The upload added before this one in the same batch: its message goes first. */
  after: Entry | null;
  /** Uploaded, its message waiting for `after`'s. */
  ready: Media | null;
  batch: string | null;
}

/** The kind a file will most likely be, from its browser-given type (the server decides). */
export function guessKind(file: Blob): AttachmentKind {
  if (/^image\/(jpeg|png|webp|gif)$/.test(file.type)) return 'image';
  if (/^video\/(mp4|quicktime)$/.test(file.type)) return 'video';
  return 'file';
}

export class Uploads {
  readonly events = new Emitter<{ changed: string }>();
  private entries: Entry[] = [];
  private userId: string | null = null;

  constructor(
    private readonly media: MediaApi,
    private readonly messenger: Messenger,
  ) {}

  list(conversationId: string): UploadItem[] {
    return this.entries.filter((e) => e.item.conversationId === conversationId).map((e) => e.item);
  }

  /** Starts uploading a file (photo, video, any file) or a recorded voice note. */
  add(
    conversationId: string,
    file: Blob,
    opts: {
      name: string;
      voice?: boolean;
      durationMs?: number;
      caption?: string;
      /** Files picked or dropped together: their messages are sent in this order. */
      batch?: string;
      /** Restored after a reload (already stored), with its id. */
      restored?: string;
    },
  ): UploadItem {
    const item: UploadItem = {
      id: opts.restored ?? newId(),
      conversationId,
      kind: opts.voice ? 'voice' : guessKind(file),
      name: opts.name,
      size: file.size,
      sent: 0,
      state: 'uploading',
      error: null,
      previewUrl: null,
      durationMs: opts.durationMs,
      caption: opts.caption ?? '',
    };
    const batch = opts.batch ?? null;
    const after = batch
      ? ([...this.entries].reverse().find((e) => e.batch === batch) ?? null)
      : null;
    const entry: Entry = { item, file, abort: null, after, ready: null, batch };
    this.entries.push(entry);
    if (this.userId && !opts.restored) {
      void saveUpload({
        id: item.id,
        userId: this.userId,
        conversationId,
        voice: !!opts.voice,
        name: opts.name,
        durationMs: opts.durationMs,
        caption: item.caption,
        batch,
        at: Date.now(),
        file,
      });
    }
    if (item.kind === 'image') void this.measure(entry);
    this.start(entry);
    return item;
  }

  cancel(id: string): void {
    const e = this.entries.find((x) => x.item.id === id);
    if (!e) return;
    e.abort?.();
    this.drop(e);
    this.sendReady(); // what waited for it goes now
  }

  retry(id: string): void {
    const e = this.entries.find((x) => x.item.id === id);
    if (!e || e.item.state !== 'failed') return;
    this.start(e);
  }

  private start(e: Entry): void {
    const { item } = e;
    item.state = 'uploading';
    item.error = null;
    item.sent = 0;
    const handle = this.media.upload(e.file, {
      voice: item.kind === 'voice',
      durationMs: item.durationMs,
      filename: item.kind === 'voice' ? undefined : item.name,
      onProgress: (sent, total) => {
        item.sent = sent;
        item.size = total;
        this.events.emit('changed', item.conversationId);
      },
    });
    e.abort = handle.abort;
    this.events.emit('changed', item.conversationId);
    handle.done.then(
      (m) => {
        if (!this.entries.includes(e)) return;
        e.ready = m;
        this.sendReady();
      },
      (err: unknown) => {
        if (err instanceof UploadAborted || !this.entries.includes(e)) return;
        item.state = 'failed';
        item.error = err instanceof Error ? err : new Error(String(err));
        e.abort = null;
        this.events.emit('changed', item.conversationId);
        this.sendReady();
      },
    );
  }

  /**
   * Sends the messages of finished uploads, each once the upload before it in
   * its batch has been sent, cancelled or has failed (a retry then comes later).
   */
  private sendReady(): void {
    for (const e of [...this.entries]) {
      if (!e.ready || !this.entries.includes(e)) continue;
      const before = e.after;
      if (before && this.entries.includes(before) && before.item.state !== 'failed') continue;
      const { item } = e;
      const m = e.ready;
      markDone(item.id); // before the message is queued: a reload must not upload it again
      this.messenger.sendMedia(
        item.conversationId,
        {
          type: item.kind === 'voice' ? 'voice' : m.kind,
          attachmentId: m.id,
          attachment: attachmentOf(m),
        },
        item.caption,
      );
      this.drop(e);
    }
  }

  /** Width and height of a photo, so that its bubble has its final size at once. */
  private async measure(e: Entry): Promise<void> {
    try {
      const bitmap = await createImageBitmap(e.file);
      e.item.width = bitmap.width;
      e.item.height = bitmap.height;
      bitmap.close();
      e.item.previewUrl = URL.createObjectURL(e.file);
      if (this.entries.includes(e)) this.events.emit('changed', e.item.conversationId);
      else URL.revokeObjectURL(e.item.previewUrl);
    } catch {
      // Not an image the browser decodes: the server will say what it is.
    }
  }

  /**
   * For the signed-in user (after sign-in or a reload): starts again the uploads
   * a reload interrupted, in the order they were added.
   */
  async restore(userId: string): Promise<void> {
    this.userId = userId;
    const done = doneIds();
    for (const u of await storedUploads(userId)) {
      if (this.userId !== userId) return; // signed out meanwhile
      if (done.has(u.id)) {
        void forgetUpload(u.id).then(() => unmarkDone(u.id));
        continue;
      }
      if (this.entries.some((e) => e.item.id === u.id)) continue;
      this.add(u.conversationId, u.file, {
        name: u.name,
        voice: u.voice,
        durationMs: u.durationMs,
        caption: u.caption,
        batch: u.batch ?? undefined,
        restored: u.id,
      });
    }
  }

  /** Sign-out: stops and forgets every upload (nothing is kept for the next user). */
  close(): void {
    for (const e of [...this.entries]) {
      e.abort?.();
      this.drop(e);
    }
    this.userId = null;
  }

  private drop(e: Entry): void {
    void forgetUpload(e.item.id).then(() => unmarkDone(e.item.id));
    this.entries = this.entries.filter((x) => x !== e);
    if (e.item.previewUrl) URL.revokeObjectURL(e.item.previewUrl);
    this.events.emit('changed', e.item.conversationId);
  }
}

/** What a message carries for an upload (as the service stores it on the message). */
export function attachmentOf(m: Media): Attachment {
  const a: Attachment = {
    id: m.id,
    kind: m.kind,
    content_type: m.content_type,
    size: m.size,
    url: `/v1/media/${m.id}`,
  };
  if (m.filename) a.filename = m.filename;
  if (m.width) a.width = m.width;
  if (m.height) a.height = m.height;
  if (m.duration_ms) a.duration_ms = m.duration_ms;
  if (m.waveform) a.waveform = m.waveform;
  if (m.placeholder) a.placeholder = m.placeholder;
  if (m.thumbnail_url) a.thumbnail_url = `/v1/media/${m.id}?variant=thumb`;
  return a;
}

function doneIds(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(DONE_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

function markDone(id: string): void {
  const ids = doneIds();
  ids.add(id);
  localStorage.setItem(DONE_KEY, JSON.stringify([...ids]));
}

function unmarkDone(id: string): void {
  const ids = doneIds();
  if (!ids.delete(id)) return;
  localStorage.setItem(DONE_KEY, JSON.stringify([...ids]));
}
