// The service worker of the web client (web/README.md, "Installable and offline").
// Hand-written; sw/vite-plugin-sw.ts prepends `const BUILD = {version, shell}` to
// it and emits it as dist/sw.js, so every build that changes a file changes sw.js,
// and the browser installs the new worker next to the old one (the page then offers
// to reload: src/pwa/register.ts).
//
//   the app shell   index.html, the hashed assets, icons and manifest: cached at
//                   install; page loads are answered with the cached index.html
//                   (history-API routes), so the client opens without a network.
//   API reads       the conversation list, a conversation, its newest page of
//                   messages, profiles and wallets: network first, the last good
//                   answer kept per user (the access token's subject) and served
//                   only when the network fails or is too slow.
//   everything else goes to the network untouched (sends, sync, the WebSocket,
//                   the payment provider's pages, media). Sends made offline wait
//                   in the client's outbox (src/state/outbox.ts) with their
//                   client_msg_id, not here.
/* global BUILD */
/// <reference lib="webworker" />

const SHELL_CACHE = `tchat-shell-${BUILD.version}`;
const API_CACHE = 'tchat-api-v1';
/** A network answer slower than this is replaced by the kept copy (the network one still refreshes it). */
const API_PATIENCE_MS = 4000;
/** Paths the gateway serves itself: never answered with the app shell. */
const NOT_SHELL = /^\/(v1|dev|docs|media|_media|_gateway|health|metrics|\.well-known)(\/|$)/;
/** The API reads kept for offline use (no cursors: the first page only). */
const KEPT_READS = [
  /^\/v1\/conversations$/,
  /^\/v1\/conversations\/[0-9a-fA-F-]+$/,
  /^\/v1\/conversations\/[0-9a-fA-F-]+\/messages$/,
  /^\/v1\/users\/[0-9a-fA-F-]+$/,
  /^\/v1\/wallets$/,
];
const PAGING_PARAMS = ['cursor', 'before_seq', 'after_seq'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) =>
        cache.addAll(BUILD.shell.map((url) => new Request(url, { cache: 'reload' }))),
      ),
  );
  // No skipWaiting here: a new version waits until the page says so (update prompt).
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('tchat-shell-') && name !== SHELL_CACHE) await caches.delete(name);
      }
      // The first install takes the open page at once, so its reads are kept from now on.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') void self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    if (!NOT_SHELL.test(url.pathname)) event.respondWith(shellPage(req));
    return;
  }
  if (BUILD.shell.includes(url.pathname)) {
    event.respondWith(fromShell(req));
    return;
  }
  const user = tokenSubject(req.headers.get('Authorization'));
  if (user && isKeptRead(url)) {
    event.respondWith(networkFirst(req, keyFor(url, user), event.clientId));
  }
});

async function shellPage(req) {
  const cached = await caches.match('/index.html', { cacheName: SHELL_CACHE });
  return cached ?? fetch(req);
}

async function fromShell(req) {
  const cached = await caches.match(req, { cacheName: SHELL_CACHE });
  return cached ?? fetch(req);
}

function isKeptRead(url) {
  return (
    KEPT_READS.some((re) => re.test(url.pathname)) &&
    !PAGING_PARAMS.some((p) => url.searchParams.has(p))
  );
}

/** The kept copy's key: the request's URL and its user, so one person never sees another's. */
function keyFor(url, user) {
  const key = new URL(url);
  key.searchParams.set('tchat_sw_user', user);
  return key.href;
}

/** The `sub` of a bearer JWT (read, not verified: it only picks the cache entry). */
function tokenSubject(header) {
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
  if (!m) return null;
  try {
    const json = atob(m[2].replace(/-/g, '+').replace(/_/g, '/'));
    const sub = JSON.parse(json).sub;
    return typeof sub === 'string' && sub ? sub : null;
  } catch {
    return null;
  }
}

async function networkFirst(req, key, clientId) {
  const cache = await caches.open(API_CACHE);
  const network = fetch(req).then(async (res) => {
    if (res.ok) await cache.put(key, res.clone());
    return res;
  });
  const kept = await cache.match(key);
  if (!kept) return network;
  const slow = new Promise((resolve) => setTimeout(resolve, API_PATIENCE_MS, 'slow'));
  try {
    const first = await Promise.race([network, slow]);
    if (first !== 'slow') return first;
  } catch {
    // offline or the gateway is away: the kept copy below
  }
  network.catch(() => undefined);
  // The page refreshes what it got from here once it is back online (src/pwa/offline.ts).
  const client = clientId ? await self.clients.get(clientId) : null;
  client?.postMessage({ type: 'offline-copy', path: new URL(req.url).pathname });
  return offlineCopy(kept);
}

/** The kept answer, marked so that a reader can tell it is not fresh. */
function offlineCopy(res) {
  const headers = new Headers(res.headers);
  headers.set('X-Tchat-Offline-Copy', '1');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
