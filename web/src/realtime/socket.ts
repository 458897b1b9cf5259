// The WebSocket to /v1/ws: connects with a fresh access token, keeps the link
// alive with pings, and reconnects with jittered exponential backoff. While the
// browser reports itself offline it does not try at all (and closes the socket
// at once, so the server sees the user go away instead of waiting for a timeout).
// Catching up after a reconnect is the caller's job: it runs a sync on "ready".
import type { ClientFrame, ServerEvent } from './events';
import { Emitter } from '../util/emitter';

export type SocketStatus = 'offline' | 'connecting' | 'online';

const PING_EVERY_MS = 25_000;
/** No frame for this long (pongs included): the link is dead. */
const SILENCE_LIMIT_MS = 60_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

export class RealtimeSocket {
  readonly events = new Emitter<{ event: ServerEvent; status: SocketStatus }>();
  private ws: WebSocket | null = null;
  private statusValue: SocketStatus = 'offline';
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  private running = false;
  /** Connections closed before "ready" in a row: the token may be refused. */
  private earlyCloses = 0;

  constructor(private readonly url: (forceRefresh: boolean) => Promise<string>) {
    window.addEventListener('offline', () => this.dropForOffline());
    window.addEventListener('online', () => {
      if (this.running && !this.ws) this.connectSoon(0);
    });
  }

  get status(): SocketStatus {
    return this.statusValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connectSoon(0);
  }

  stop(): void {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.close(1000);
    this.setStatus('offline');
  }

  /** Sends a frame when connected; false when it could not be sent. */
  send(frame: ClientFrame): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.statusValue !== 'online') {
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Reconnects now (e.g. after the user pressed "retry"). */
  reconnect(): void {
    this.close(4000);
    this.connectSoon(0);
  }

  private connectSoon(delay: number): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private async connect(): Promise<void> {
    if (!this.running || this.ws) return;
    if (!navigator.onLine) {
      this.setStatus('offline');
      return; // the "online" event brings us back
    }
    this.setStatus('connecting');
    let url: string;
    try {
      url = await this.url(this.earlyCloses >= 2);
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (!this.running || this.ws || !navigator.onLine) return;
    const ws = new WebSocket(url);
    this.ws = ws;
    let ready = false;
    ws.onmessage = (e) => {
      this.lastFrameAt = Date.now();
      let ev: ServerEvent;
      try {
        ev = JSON.parse(String(e.data)) as ServerEvent;
      } catch {
        return;
      }
      if (ev.type === 'ready') {
        ready = true;
        this.attempts = 0;
        this.earlyCloses = 0;
        this.setStatus('online');
      }
      this.events.emit('event', ev);
    };
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      this.startPings();
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPings();
      if (!ready) this.earlyCloses++;
      this.setStatus(navigator.onLine ? 'connecting' : 'offline');
      if (this.running) this.scheduleReconnect();
    };
    // onerror is always followed by onclose, which handles it.
    ws.onerror = () => undefined;
  }

  private scheduleReconnect(): void {
    if (!this.running || !navigator.onLine) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempts);
    this.attempts++;
    this.connectSoon(base / 2 + Math.random() * (base / 2));
  }

  private dropForOffline(): void {
    this.close(4001);
    this.setStatus('offline');
  }

  private close(code: number): void {
    const ws = this.ws;
    this.ws = null;
    this.stopPings();
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(code);
      } catch {
        /* already closing */
      }
    }
  }

  private startPings(): void {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        this.close(4002);
        this.setStatus('connecting');
        this.scheduleReconnect();
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private setStatus(s: SocketStatus): void {
    if (s === this.statusValue) return;
    this.statusValue = s;
    this.events.emit('status', s);
  }
}
