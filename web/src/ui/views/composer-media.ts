// The chat's attachment controls: the attach button (photos, videos, any file),
// drag and drop onto the chat, pasting images into the composer, the voice
// recorder (MediaRecorder, Opus in Ogg or WebM), and the bubbles of uploads in
// progress with their progress bar, cancel and retry. ChatView mounts the
// pieces (`buttons`, `panel`, `uploadsEl`) and calls dispose().
import { ApiError } from '../../api/errors';
import { t } from '../../i18n';
import type { UploadItem } from '../../state/uploads';
import { h, icon, replaceChildren } from '../../util/dom';
import { Subscriptions } from '../../util/emitter';
import { newId } from '../../util/ids';
import type { Ctx } from '../context';
import { errorText } from '../errors';
import { ICONS } from '../icons';
import { duration, fileSize, fitBox } from './attachment';

const MAX_RECORDING_MS = 15 * 60_000;
/** Container and codec the service accepts as a voice note, best first. */
const VOICE_TYPES = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus', 'audio/webm'];

const CLIP = ['M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7'];
const MIC = [
  'M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z',
  'M5 11a7 7 0 0 0 14 0',
  'M12 18v3',
];

export class ComposerMedia {
  readonly buttons: HTMLElement[];
  /** The recorder's bar, above the composer's row while recording. */
  readonly panel: HTMLElement;
  /** Bubbles of uploads in progress, after the messages. */
  readonly uploadsEl: HTMLElement;
  private readonly subs = new Subscriptions();
  private readonly fileInput: HTMLInputElement;
  private readonly rows = new Map<
    string,
    { el: HTMLElement; state: string; progress: HTMLProgressElement }
  >();
  private recorder: Recording | null = null;

  constructor(
    private readonly ctx: Ctx,
    private readonly conversationId: string,
    private readonly chatEl: HTMLElement,
    private readonly input: HTMLTextAreaElement,
    private readonly scroller: HTMLElement,
  ) {
    this.fileInput = h('input', {
      type: 'file',
      multiple: true,
      hidden: true,
      'data-testid': 'attach-input',
      onChange: () => {
        this.addFiles([...(this.fileInput.files ?? [])]);
        this.fileInput.value = '';
      },
    });
    this.buttons = [
      h(
        'button',
        {
          type: 'button',
          class: 'icon-button',
          title: t('media.attach'),
          'aria-label': t('media.attach'),
          'data-testid': 'attach',
          onClick: () => this.fileInput.click(),
        },
        icon(CLIP),
      ),
      this.fileInput,
    ];
    const mic = h(
      'button',
      {
        type: 'button',
        class: 'icon-button',
        title: t('media.record'),
        'aria-label': t('media.record'),
        'data-testid': 'record-voice',
        onClick: () => void this.startRecording(),
      },
      icon(MIC),
    );
    this.buttons.push(mic);
    this.panel = h('div', { class: 'recorder', hidden: true, 'data-testid': 'recorder' });
    this.uploadsEl = h('div', { class: 'items uploads', 'data-testid': 'uploads' });
    this.wireDrop();
    input.addEventListener('paste', this.onPaste);
    this.subs.add(
      ctx.uploads.events.on('changed', (cid) => cid === conversationId && this.renderUploads()),
    );
    this.renderUploads();
  }

  dispose(): void {
    this.subs.dispose();
    this.recorder?.cancel();
    this.input.removeEventListener('paste', this.onPaste);
  }

  /** Uploads the files; text already typed becomes the caption of a single one. */
  addFiles(files: File[]): void {
    const caption = files.length === 1 ? this.input.value.trim() : '';
    if (caption) {
      this.input.value = '';
      this.input.dispatchEvent(new Event('input'));
    }
    // Sent in the order picked, as consecutive messages (several photos: one grid).
    const batch = files.length > 1 ? newId() : undefined;
    for (const f of files) {
      this.ctx.uploads.add(this.conversationId, f, {
        name: f.name || t('media.file'),
        caption,
        batch,
      });
    }
    if (files.length) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  private readonly onPaste = (e: ClipboardEvent) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!files.length) return;
    e.preventDefault();
    this.addFiles(files);
  };

  private wireDrop(): void {
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    this.chatEl.setAttribute('data-drop-label', t('media.dropHere'));
    this.chatEl.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      depth++;
      this.chatEl.classList.add('dropping');
    });
    this.chatEl.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer!.dropEffect = 'copy';
    });
    this.chatEl.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) this.chatEl.classList.remove('dropping');
    });
    this.chatEl.addEventListener('drop', (e) => {
      depth = 0;
      this.chatEl.classList.remove('dropping');
      if (!hasFiles(e)) return;
      e.preventDefault();
      this.addFiles([...(e.dataTransfer?.files ?? [])]);
    });
  }

  // ---- uploads in progress ----

  private renderUploads(): void {
    const items = this.ctx.uploads.list(this.conversationId);
    const keep = new Set(items.map((u) => u.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    for (const u of items) {
      const state = `${u.state}/${u.previewUrl ?? ''}`;
      let row = this.rows.get(u.id);
      if (!row || row.state !== state) {
        const built = this.uploadRow(u);
        if (row) row.el.replaceWith(built.el);
        else this.uploadsEl.append(built.el);
        row = { ...built, state };
        this.rows.set(u.id, row);
      }
      row.progress.value = u.size ? u.sent / u.size : 0;
    }
  }

  private uploadRow(u: UploadItem): { el: HTMLElement; progress: HTMLProgressElement } {
    const progress = h('progress', { max: 1, value: 0, 'aria-label': t('media.uploading') });
    let preview: HTMLElement;
    if (u.kind === 'image' && u.width && u.height) {
      const box = fitBox(u.width, u.height);
      preview = h(
        'div',
        { class: 'att-image', style: `width:${box.w}px;height:${box.h}px` },
        u.previewUrl ? h('img', { class: 'att-thumb loaded', src: u.previewUrl, alt: '' }) : null,
      );
    } else {
      const what = u.kind === 'voice' && u.durationMs ? duration(u.durationMs) : fileSize(u.size);
      preview = h(
        'div',
        { class: 'att-file' },
        h('span', { class: 'att-file-name' }, u.name),
        h('span', { class: 'muted' }, what),
      );
    }
    const failed = u.state === 'failed';
    const controls = h(
      'div',
      { class: 'upload-controls' },
      failed
        ? h('span', { role: 'alert' }, `${t('media.uploadFailed')} — ${uploadError(u.error)}`)
        : progress,
      failed
        ? h(
            'button',
            { type: 'button', class: 'link-button', onClick: () => this.ctx.uploads.retry(u.id) },
            t('common.retry'),
          )
        : null,
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          'data-testid': 'cancel-upload',
          onClick: () => this.ctx.uploads.cancel(u.id),
        },
        failed ? t('chat.discard') : t('media.cancelUpload'),
      ),
    );
    const el = h(
      'div',
      { class: `msg mine pending${failed ? ' failed' : ''}`, 'data-upload': u.id },
      h('div', { class: 'msg-line' }, h('div', { class: 'bubble att-bubble' }, preview, controls)),
    );
    return { el, progress };
  }

  // ---- voice notes ----

  private async startRecording(): Promise<void> {
    if (this.recorder) return;
    const type = VOICE_TYPES.find((ty) => window.MediaRecorder?.isTypeSupported(ty));
    if (!type || !navigator.mediaDevices?.getUserMedia) {
      this.ctx.toast(t('media.recordUnsupported'), 'error');
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      this.ctx.toast(t('media.micDenied'), 'error');
      return;
    }
    this.recorder = new Recording(stream, type, (blob, ms) => {
      this.recorder = null;
      this.panel.hidden = true;
      if (!blob) return;
      this.ctx.uploads.add(this.conversationId, blob, {
        name: t('media.voice'),
        voice: true,
        durationMs: ms,
      });
      this.scroller.scrollTop = this.scroller.scrollHeight;
    });
    this.showRecorder(this.recorder);
  }

  private showRecorder(rec: Recording): void {
    const time = h('span', { class: 'recorder-time', 'data-testid': 'recorder-time' }, '0:00');
    const cancel = h(
      'button',
      {
        type: 'button',
        class: 'link-button',
        'data-testid': 'recorder-cancel',
        onClick: () => rec.cancel(),
      },
      t('media.cancelRecording'),
    );
    const send = h(
      'button',
      {
        type: 'button',
        class: 'icon-button accent',
        'aria-label': t('media.sendVoice'),
        title: t('media.sendVoice'),
        'data-testid': 'recorder-send',
        onClick: () => rec.stop(),
      },
      icon(ICONS.send),
    );
    replaceChildren(
      this.panel,
      h('span', { class: 'recorder-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'recorder-label' }, t('media.recording')),
      time,
      cancel,
      send,
    );
    this.panel.hidden = false;
    this.panel.onkeydown = (e) => {
      if (e.key === 'Escape') rec.cancel();
    };
    rec.onTick = (ms) => {
      time.textContent = duration(ms);
      if (ms >= MAX_RECORDING_MS) rec.stop();
    };
    send.focus();
  }
}

function uploadError(err: Error | null): string {
  if (err instanceof ApiError && err.status === 413) return t('media.tooLarge');
  if (err instanceof ApiError && err.code === 'quota_exceeded') return t('media.quota');
  return errorText(err);
}

/** One voice note being recorded; done(null) when cancelled. */
class Recording {
  onTick: (ms: number) => void = () => undefined;
  private readonly rec: MediaRecorder;
  private readonly chunks: Blob[] = [];
  private readonly started = performance.now();
  private readonly timer: ReturnType<typeof setInterval>;
  private cancelled = false;

  constructor(
    private readonly stream: MediaStream,
    type: string,
    private readonly done: (blob: Blob | null, ms: number) => void,
  ) {
    this.rec = new MediaRecorder(stream, { mimeType: type, audioBitsPerSecond: 32_000 });
    this.rec.addEventListener('dataavailable', (e) => {
      if (e.data.size) this.chunks.push(e.data);
    });
    this.rec.addEventListener('stop', () => {
      clearInterval(this.timer);
      for (const track of this.stream.getTracks()) track.stop();
      const ms = performance.now() - this.started;
      const blob = this.cancelled || !this.chunks.length ? null : new Blob(this.chunks, { type });
      this.done(blob, ms);
    });
    this.rec.start(250);
    this.timer = setInterval(() => this.onTick(performance.now() - this.started), 250);
  }

  stop(): void {
    if (this.rec.state !== 'inactive') this.rec.stop();
  }

  cancel(): void {
    this.cancelled = true;
    this.stop();
  }
}
