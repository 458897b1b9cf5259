// Attachments (docs/api/openapi.yaml, messaging: POST /v1/media, GET /v1/media/{id}).
// The upload is the raw file as the request body, sent with XMLHttpRequest
// because fetch reports no upload progress; GET /v1/media/{id} answers signed
// URLs that <img>, <audio>, <video> and downloads use directly. Those answers
// are kept until shortly before they expire, so a re-rendered bubble uses the
// same URL and the browser's cache (Cache-Control: private, immutable).
import { ApiError, NetworkError } from './errors';
import type { Http, TokenSource } from './http';
import type { components } from './schema';

export type Media = components['schemas']['Media'];
export type Attachment = components['schemas']['Attachment'];
export type MediaKind = Media['kind'];

export interface UploadOptions {
  /** A voice note: the service reads its duration and waveform. */
  voice?: boolean;
  /** The recorder's duration of a voice note. */
  durationMs?: number;
  /** The name shown for a file. */
  filename?: string;
  onProgress?(sent: number, total: number): void;
}

/** An upload on its way; abort() cancels it (the promise rejects with UploadAborted). */
export interface UploadHandle {
  done: Promise<Media>;
  abort(): void;
}

export class UploadAborted extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadAborted';
  }
}

/** Signed URLs are used until this long before they expire. */
const URL_MARGIN_MS = 60_000;

export class MediaApi {
  private readonly described = new Map<string, Promise<Media>>();

  constructor(
    private readonly http: Http,
    private readonly tokens: TokenSource,
  ) {}

  upload(file: Blob, opts: UploadOptions = {}): UploadHandle {
    let xhr: XMLHttpRequest | null = null;
    let aborted = false;
    const query = new URLSearchParams();
    if (opts.voice) query.set('kind', 'voice');
    if (opts.durationMs) query.set('duration_ms', String(Math.max(1, Math.round(opts.durationMs))));
    if (opts.filename) query.set('filename', cleanFilename(opts.filename));
    const qs = query.toString();
    const path = `/v1/media${qs ? `?${qs}` : ''}`;
    const once = async (token: string) =>
      new Promise<{ status: number; text: string; retryAfter: string | null }>(
        (resolve, reject) => {
          if (aborted) return reject(new UploadAborted());
          const x = new XMLHttpRequest();
          xhr = x;
          x.open('POST', path);
          x.setRequestHeader('Authorization', `Bearer ${token}`);
          x.setRequestHeader('Accept', 'application/json');
          x.setRequestHeader('Content-Type', 'application/octet-stream');
          x.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.total || file.size);
          x.onload = () =>
            resolve({
              status: x.status,
              text: x.responseText,
              retryAfter: x.getResponseHeader('Retry-After'),
            });
          x.onerror = () => reject(new NetworkError('upload failed'));
          x.onabort = () => reject(new UploadAborted());
          x.send(file);
        },
      );
    const done = (async () => {
      let res = await once(await this.tokens.accessToken());
      if (res.status === 401) {
        await this.tokens.refresh();
        res = await once(await this.tokens.accessToken());
      }
      let data: unknown;
      try {
        data = JSON.parse(res.text);
      } catch {
        data = undefined;
      }
      if (res.status === 201) {
        const m = data as Media;
        this.described.set(m.id, Promise.resolve(m));
        return m;
      }
      const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
      const retryAfter = Number(res.retryAfter);
      throw new ApiError(
        res.status,
        err?.code ?? `http_${res.status}`,
        err?.message ?? 'upload failed',
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
      );
    })();
    return {
      done,
      abort: () => {
        aborted = true;
        xhr?.abort();
      },
    };
  }

  /** The attachment with signed URLs, from memory while they are fresh. */
  describe(id: string): Promise<Media> {
    const known = this.described.get(id);
    if (known) {
      return known.then((m) =>
        Date.parse(m.expires_at) - Date.now() > URL_MARGIN_MS ? m : this.fetch(id),
      );
    }
    return this.fetch(id);
  }

  private fetch(id: string): Promise<Media> {
    const p = this.http.get<Media>(`/v1/media/${encodeURIComponent(id)}`);
    this.described.set(id, p);
    p.catch(() => this.described.delete(id));
    return p;
  }
}

/** A name the service accepts: no slashes or control characters, at most 255 bytes. */
export function cleanFilename(name: string): string {
  // eslint-disable-next-line no-control-regex
  let s = name.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim() || 'file';
  while (new TextEncoder().encode(s).length > 255) s = s.slice(0, -1);
  return s;
}
