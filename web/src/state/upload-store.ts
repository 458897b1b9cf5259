// The files of uploads in progress, kept in IndexedDB (database "tchat-uploads")
// so that a reload starts them again (Uploads.restore) instead of losing them.
// Every call fails soft: without IndexedDB (private windows of some browsers)
// uploads simply do not survive a reload, as before.

export interface StoredUpload {
  id: string;
  userId: string;
  conversationId: string;
  voice: boolean;
  name: string;
  durationMs?: number;
  caption: string;
  batch: string | null;
  /** When it was added: restored uploads keep this order. */
  at: number;
  file: Blob;
}

const DB = 'tchat-uploads';
const STORE = 'uploads';

let opened: Promise<IDBDatabase | null> | null = null;

function db(): Promise<IDBDatabase | null> {
  opened ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return opened;
}

function run<T>(
  mode: IDBTransactionMode,
  op: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T | null> {
  return db().then(
    (d) =>
      new Promise<T | null>((resolve) => {
        if (!d) return resolve(null);
        try {
          const req = op(d.transaction(STORE, mode).objectStore(STORE));
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => resolve(null);
        } catch {
          resolve(null);
        }
      }),
  );
}

export function saveUpload(u: StoredUpload): Promise<unknown> {
  return run('readwrite', (s) => s.put(u));
}

export function forgetUpload(id: string): Promise<unknown> {
  return run('readwrite', (s) => s.delete(id));
}

/** The user's stored uploads, oldest first. */
export async function storedUploads(userId: string): Promise<StoredUpload[]> {
  const all = ((await run('readonly', (s) => s.getAll())) ?? []) as StoredUpload[];
  return all.filter((u) => u.userId === userId).sort((a, b) => a.at - b.at);
}
