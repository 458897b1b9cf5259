// The messages of one conversation that the client holds, by seq. History is
// loaded newest page first and extended upwards as the user scrolls (infinite
// scroll); live events and sync results are merged in by seq, so a message seen
// twice (event and sync) is stored once.
//
// A jump to an old message (a search result) holds a window around it instead:
// `hasNewer` is then set and the range grows downwards as the user scrolls, while
// live messages beyond it are left to that paging.
import type { Message } from '../api/types';

export class MessageCache {
  private readonly bySeq = new Map<number, Message>();
  private sorted: Message[] | null = [];
  /** More history exists before the oldest message held. */
  hasOlder = true;
  /** More history exists after the newest message held (a window, see above). */
  hasNewer = false;
  /** The newest page (or a window) has been loaded: the range held is contiguous. */
  loaded = false;

  constructor(readonly conversationId: string) {}

  /** Ascending by seq. */
  list(): Message[] {
    if (!this.sorted) this.sorted = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  get(seq: number): Message | undefined {
    return this.bySeq.get(seq);
  }

  get oldestSeq(): number | null {
    return this.list()[0]?.seq ?? null;
  }

  get newestSeq(): number {
    const l = this.list();
    return l.length ? l[l.length - 1]!.seq : 0;
  }

  /**
   * Adds or replaces a message; returns false when nothing changed. A message
   * older than the loaded range is left out unless it is already held (an edit):
   * the range must stay contiguous, and scrolling up fetches it anyway. History
   * pages (`page` true) are contiguous by construction and extend the range.
   */
  upsert(m: Message, page = false): boolean {
    const old = this.bySeq.get(m.seq);
    const oldest = this.oldestSeq;
    if (!page && !old && this.loaded && this.hasOlder && oldest !== null && m.seq < oldest) {
      return false;
    }
    if (!page && !old && this.hasNewer && m.seq > this.newestSeq) return false;
    if (old && !isNewer(m, old)) return false;
    this.bySeq.set(m.seq, m);
    this.sorted = null;
    return true;
  }

  /**
   * Forgets what lies before `seq`. Used when the newest page arrives: messages
   * that came in earlier through events or sync may be scattered (an old one
   * edited, say), and keeping them would hide the gap below the page from
   * infinite scroll, which pages down from the oldest message held.
   */
  dropBefore(seq: number): void {
    for (const k of this.bySeq.keys()) if (k < seq) this.bySeq.delete(k);
    this.sorted = null;
  }

  /** Forgets everything (before a window is loaded, or the newest page again). */
  clear(): void {
    this.bySeq.clear();
    this.sorted = [];
    this.hasOlder = true;
    this.hasNewer = false;
    this.loaded = false;
  }

  /** The newest message of a payment request, for its current status. */
  requestStatus(requestId: string): string | null {
    let status: string | null = null;
    for (const m of this.list()) {
      if (m.payment?.kind === 'request' && m.payment.request_id === requestId) {
        status = m.payment.status;
      }
    }
    return status;
  }
}

/** Edits, deletions and reactions make a message change; keep the latest state. */
function isNewer(a: Message, b: Message): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}
