#!/usr/bin/env node
// Load of tests/integration/18_service_replicas.sh: clients of the gateway sign
// in, send messages, send money and read their notifications while one replica
// of every service is killed (SIGKILL) under them; WebSocket clients stay
// connected (reconnecting when their replica dies). Then it checks what the
// clients were promised:
//   - every operation succeeded in the end (clients retry idempotently: a
//     message with its client_msg_id, a transfer with its Idempotency-Key, a
//     sign-in by asking for a new code);
//   - a failed attempt (5xx, or no answer) is one that was in flight when the
//     replicas were killed, none before and none after;
//   - every acknowledged message is in its conversation's history exactly once,
//     with seq 1..n without gaps; every acknowledged transfer exists, each
//     wallet holds exactly what the acknowledged transfers left in it;
//   - every WebSocket client is connected at the end and received live every
//     message acknowledged after it had reconnected.
// It prints PASS/FAIL lines and the figures, writes them as JSON to
// $REPLICAS_LOAD_SUMMARY, and exits 1 when a check failed.
//
// Environment: TCHAT_TEST_GATEWAY_URL, TCHAT_TEST_PSP_WEBHOOK_SECRET,
// REPLICAS_KILL_PIDS (space-separated), REPLICAS_WS_METRICS (the /metrics URL of
// each messaging replica, space-separated), REPLICAS_LOAD_BEFORE_S [4],
// REPLICAS_LOAD_AFTER_S [8], REPLICAS_LOAD_SUMMARY. Run with
// node --experimental-websocket (Node 20; a global WebSocket from 22 on).
import { createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const gw = process.env.TCHAT_TEST_GATEWAY_URL;
const webhookSecret = process.env.TCHAT_TEST_PSP_WEBHOOK_SECRET;
const killPids = (process.env.REPLICAS_KILL_PIDS || '').split(/\s+/).filter(Boolean).map(Number);
const beforeS = Number(process.env.REPLICAS_LOAD_BEFORE_S || 4);
const afterS = Number(process.env.REPLICAS_LOAD_AFTER_S || 8);
if (!gw || !webhookSecret || killPids.length === 0) {
  console.log('FAIL: TCHAT_TEST_GATEWAY_URL, TCHAT_TEST_PSP_WEBHOOK_SECRET and REPLICAS_KILL_PIDS are required');
  process.exit(1);
}

let failures = 0;
const pass = (m) => console.log(`PASS: ${m}`);
const fail = (m) => {
  failures++;
  console.log(`FAIL: ${m}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

// Every HTTP attempt of the load: {op, start, end, status} (status 0: no answer).
const attempts = [];
let recording = false;

async function call(op, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const start = now();
  let status = 0;
  let json = null;
  try {
    const res = await fetch(gw + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
    status = res.status;
    const text = await res.text();
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
  } catch {
    status = 0;
  }
  if (recording) attempts.push({ op, start, end: now(), status });
  return { status, json };
}
const failed = (status) => status === 0 || status >= 500;

// Retries `attempt` (which returns {status, json}) while it fails (no answer or
// 5xx), up to 8 times, 100 ms apart. Anything else ends it.
async function withRetry(attempt) {
  let r;
  for (let i = 0; i < 8; i++) {
    r = await attempt();
    if (!failed(r.status)) return r;
    await sleep(100);
  }
  return r;
}

let phoneSeq = 0;
const phoneBase = 10000000 + Math.floor(Math.random() * 80000000);
async function signIn(op = 'sign-in') {
  const phone = `+668${String(phoneBase + phoneSeq++).padStart(8, '0')}`;
  return withRetry(async () => {
    const otp = await call(op, 'POST', '/v1/auth/otp/request', { body: { phone } });
    if (otp.status !== 202 || !otp.json?.dev_code) return otp;
    return call(op, 'POST', '/v1/auth/otp/verify', { body: { phone, code: otp.json.dev_code } });
  }).then((r) =>
    r.status === 200 ? { ok: true, token: r.json.access_token, id: r.json.user.id } : { ok: false, status: r.status },
  );
}

function signature(body) {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac('sha256', webhookSecret).update(`${t}.${body}`).digest('hex')}`;
}
async function fund(user, amount) {
  const topup = await call('setup', 'POST', '/v1/topups', {
    token: user.token,
    body: { amount, currency: 'THB', method: 'promptpay' },
  });
  if (topup.status !== 201) throw new Error(`top-up: ${topup.status} ${JSON.stringify(topup.json)}`);
  const body = JSON.stringify({
    id: `evt_${randomUUID()}`,
    type: 'topup.succeeded',
    reference: topup.json.provider_reference,
    amount,
    currency: 'THB',
  });
  const hook = await call('setup', 'POST', '/v1/webhooks/psp', { body, headers: { 'Tchat-Signature': signature(body) } });
  if (hook.status !== 200) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.json)}`);
}
async function balance(user) {
  const r = await withRetry(() => call('check', 'GET', '/v1/wallets', { token: user.token }));
  if (r.status !== 200) return null;
  return r.json.wallets.find((w) => w.currency === 'THB')?.balance ?? 0;
}

// ---- the clients

let stopping = false;
const ops = { 'sign-in': [], send: [], transfer: [], notifications: [] };
// One logical operation: its outcome and when it started and ended.
function record(kind, start, ok, extra = {}) {
  if (recording) ops[kind].push({ start, end: now(), ok, ...extra });
}

async function signInLoop() {
  while (!stopping) {
    const start = now();
    const r = await signIn();
    record('sign-in', start, r.ok, { status: r.status });
    await sleep(100);
  }
}

const acked = new Map(); // conversation id -> [{client_msg_id, seq, at}]
async function sendLoop(sender, conversation, tag) {
  let n = 0;
  acked.set(conversation, acked.get(conversation) || []);
  while (!stopping) {
    const cid = `${tag}-${n++}`;
    const start = now();
    const r = await withRetry(() =>
      call('send', 'POST', `/v1/conversations/${conversation}/messages`, {
        token: sender.token,
        body: { client_msg_id: cid, type: 'text', body: `replica test ${cid}` },
      }),
    );
    const ok = r.status === 200 || r.status === 201;
    if (ok && recording) acked.get(conversation).push({ client_msg_id: cid, seq: r.json.seq, at: now() });
    record('send', start, ok, { status: r.status });
    await sleep(50);
  }
}

const transfers = []; // acknowledged: {id, from, to, amount}
async function transferLoop(from, to) {
  while (!stopping) {
    const key = `replicas-${randomUUID()}`;
    const start = now();
    const r = await withRetry(() =>
      call('transfer', 'POST', '/v1/transfers', {
        token: from.token,
        body: { to_user_id: to.id, amount: 100, currency: 'THB' },
        headers: { 'Idempotency-Key': key },
      }),
    );
    const ok = r.status === 201;
    if (ok) transfers.push({ id: r.json.id, from, to, amount: 100, counted: recording });
    record('transfer', start, ok, { status: r.status });
    await sleep(50);
  }
}

async function notificationsLoop(users) {
  let i = 0;
  while (!stopping) {
    const start = now();
    const r = await withRetry(() =>
      call('notifications', 'GET', '/v1/notifications?limit=20', { token: users[i++ % users.length].token }),
    );
    record('notifications', start, r.status === 200, { status: r.status });
    await sleep(50);
  }
}

// A WebSocket client that reconnects whenever its socket closes: the messages
// it received live (client_msg_id -> arrival time) and its connections.
function wsClient(user) {
  const c = { received: new Map(), opens: [], closes: [], socket: null, open: false };
  const url = `${gw.replace(/^http/, 'ws')}/v1/ws?access_token=${encodeURIComponent(user.token)}`;
  const connect = () => {
    if (stopping && c.done) return;
    const ws = new WebSocket(url);
    c.socket = ws;
    ws.onmessage = (ev) => {
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (f.type === 'ready') {
        c.open = true;
        c.opens.push(now());
      } else if (f.type === 'message.new' && f.message?.client_msg_id) {
        c.received.set(f.message.client_msg_id, now());
      }
    };
    ws.onclose = () => {
      if (c.open) c.closes.push(now());
      c.open = false;
      if (!c.done) setTimeout(connect, 200);
    };
    ws.onerror = () => {};
  };
  connect();
  return c;
}

// ---- the run

async function setup() {
  const users = [];
  for (let i = 0; i < 6; i++) {
    const u = await signIn('setup');
    if (!u.ok) throw new Error(`setup sign-in failed: ${u.status}`);
    users.push(u);
  }
  const conversations = [];
  for (const [a, b] of [
    [0, 1],
    [2, 3],
  ]) {
    const r = await call('setup', 'POST', '/v1/conversations', {
      token: users[a].token,
      body: { type: 'direct', member_ids: [users[b].id] },
    });
    if (r.status !== 200 && r.status !== 201) throw new Error(`conversation: ${r.status}`);
    conversations.push({ id: r.json.id, sender: users[a], receiver: users[b] });
  }
  await fund(users[4], 1000000);
  await fund(users[5], 1000000);
  return { users, conversations };
}

async function historyOf(token, conversation) {
  const out = [];
  let after = 0;
  for (;;) {
    const r = await withRetry(() =>
      call('check', 'GET', `/v1/conversations/${conversation}/messages?after_seq=${after}&limit=200`, { token }),
    );
    if (r.status !== 200) return null;
    out.push(...r.json.messages);
    if (!r.json.has_more || r.json.messages.length === 0) return out;
    after = r.json.messages[r.json.messages.length - 1].seq;
  }
}

async function main() {
  const { users, conversations } = await setup();
  // WebSockets on both messaging replicas: one per receiver, and more until
  // every replica holds one (REPLICAS_WS_METRICS: each replica's /metrics).
  const sockets = conversations.map((c, i) => Object.assign(wsClient(c.receiver), { conversation: i }));
  const metricsUrls = (process.env.REPLICAS_WS_METRICS || '').split(/\s+/).filter(Boolean);
  const wsOn = async (url) => {
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      const m = text.match(/^messaging_ws_connections(?:\{[^}]*\})? (\d+)/m);
      return m ? Number(m[1]) : 0;
    } catch {
      return 0;
    }
  };
  for (let extra = 0; ; extra++) {
    await sleep(500);
    const counts = await Promise.all(metricsUrls.map(wsOn));
    if (counts.every((n) => n > 0)) break;
    if (extra >= 8) {
      fail(`WebSockets per messaging replica: ${counts.join(', ')}`);
      break;
    }
    sockets.push(Object.assign(wsClient(conversations[extra % 2].receiver), { conversation: extra % 2 }));
  }
  const [payer1, payer2] = [users[4], users[5]];
  const before = { p1: await balance(payer1), p2: await balance(payer2) };
  recording = true;
  const t0 = now();
  const loops = [
    signInLoop(),
    sendLoop(conversations[0].sender, conversations[0].id, `a-${randomUUID()}`),
    sendLoop(conversations[1].sender, conversations[1].id, `b-${randomUUID()}`),
    transferLoop(payer1, payer2),
    transferLoop(payer2, payer1),
    notificationsLoop([payer1, payer2]),
  ];
  await sleep(beforeS * 1000);
  const killStart = now();
  for (const pid of killPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      fail(`kill -9 ${pid}: ${e.message}`);
    }
  }
  const killEnd = now();
  await sleep(afterS * 1000);
  stopping = true;
  await Promise.all(loops);
  recording = false;
  const tEnd = now();
  for (const s of sockets) s.done = true;

  // ---- requests and failures
  const total = attempts.length;
  const bad = attempts.filter((a) => failed(a.status));
  const inFlight = attempts.filter((a) => a.start <= killEnd && a.end >= killStart);
  const badOutside = bad.filter((a) => !(a.start <= killEnd && a.end >= killStart));
  const other4xx = attempts.filter((a) => a.status >= 400 && a.status < 500);
  const summary = {
    duration_s: Number(((tEnd - t0) / 1000).toFixed(1)),
    killed_pids: killPids,
    requests: total,
    requests_in_flight_at_kill: inFlight.length,
    failed_requests: bad.length,
    failed_requests_in_flight_at_kill: bad.length - badOutside.length,
    failed_by_op: {},
    operations: {},
  };
  for (const a of bad) summary.failed_by_op[a.op] = (summary.failed_by_op[a.op] || 0) + 1;
  for (const [kind, list] of Object.entries(ops)) {
    const after = list.filter((o) => o.start >= killEnd);
    summary.operations[kind] = {
      total: list.length,
      failed: list.filter((o) => !o.ok).length,
      after_kill: after.length,
    };
  }
  // Time to recover: from the kill to the end of the last failed attempt (0:
  // nothing failed), and to the first operation of each kind that started after
  // the kill and succeeded.
  summary.last_failure_after_kill_ms = bad.length ? Math.round(Math.max(...bad.map((a) => a.end)) - killStart) : 0;
  summary.first_success_after_kill_ms = {};
  for (const [kind, list] of Object.entries(ops)) {
    const first = list.filter((o) => o.start >= killStart && o.ok).sort((x, y) => x.end - y.end)[0];
    summary.first_success_after_kill_ms[kind] = first ? Math.round(first.end - killStart) : null;
  }

  if (total >= 100) pass(`${total} requests in ${summary.duration_s}s`);
  else fail(`only ${total} requests: the load did not run`);
  for (const [kind, o] of Object.entries(summary.operations)) {
    if (o.total > 0 && o.failed === 0 && o.after_kill > 0) {
      pass(`${kind}: ${o.total} operations, every one succeeded (${o.after_kill} started after the kill)`);
    } else {
      fail(`${kind}: ${o.failed} of ${o.total} operations failed after their retries, ${o.after_kill} after the kill`);
    }
  }
  if (badOutside.length === 0) {
    pass(
      `${bad.length} failed attempts, all in flight at the kill (${inFlight.length} were); retried: ${JSON.stringify(summary.failed_by_op)}`,
    );
  } else {
    fail(
      `${badOutside.length} failed attempts not in flight at the kill: ${JSON.stringify(
        badOutside.slice(0, 5).map((a) => ({ op: a.op, status: a.status, at_ms: Math.round(a.start - killStart) })),
      )}`,
    );
  }
  if (other4xx.length === 0) pass('no 4xx answers under the load');
  else fail(`${other4xx.length} 4xx answers: ${JSON.stringify(other4xx.slice(0, 5))}`);

  // ---- no lost data: messages
  let missing = 0;
  let duplicates = 0;
  let gaps = 0;
  let checked = 0;
  for (const c of conversations) {
    const want = acked.get(c.id) || [];
    let history = null;
    for (let i = 0; i < 20; i++) {
      history = await historyOf(c.sender.token, c.id);
      if (history && want.every((m) => history.some((h) => h.client_msg_id === m.client_msg_id))) break;
      await sleep(250);
    }
    if (!history) {
      fail(`history of ${c.id} unreadable`);
      continue;
    }
    const count = new Map();
    for (const h of history) count.set(h.client_msg_id, (count.get(h.client_msg_id) || 0) + 1);
    for (const m of want) {
      checked++;
      if (!count.has(m.client_msg_id)) missing++;
    }
    for (const v of count.values()) if (v > 1) duplicates += v - 1;
    history.forEach((h, i) => {
      if (h.seq !== i + 1) gaps++;
    });
  }
  summary.messages_acknowledged = checked;
  if (checked > 0 && missing === 0 && duplicates === 0 && gaps === 0) {
    pass(`all ${checked} acknowledged messages in the history once, seq without gaps`);
  } else {
    fail(`messages: ${checked} acknowledged, ${missing} missing, ${duplicates} duplicated, ${gaps} seq gaps`);
  }

  // ---- WebSockets: connected at the end, and live delivery after reconnecting
  await sleep(1000);
  sockets.forEach((s, i) => {
    const c = conversations[s.conversation];
    const lastOpen = s.opens[s.opens.length - 1] ?? Infinity;
    const due = (acked.get(c.id) || []).filter((m) => m.at > lastOpen + 500);
    const missed = due.filter((m) => !s.received.has(m.client_msg_id));
    const reconnect = s.closes.length ? Math.round(lastOpen - s.closes[0]) : null;
    summary[`ws${i + 1}`] = { closes: s.closes.length, reconnect_ms: reconnect, live_due: due.length, missed: missed.length };
    if (s.open && due.length > 0 && missed.length === 0) {
      pass(
        `WebSocket ${i + 1}: connected (closed ${s.closes.length}x${reconnect === null ? '' : `, back in ${reconnect} ms`}), ${due.length} messages since then all live`,
      );
    } else {
      fail(`WebSocket ${i + 1}: open=${s.open}, ${missed.length} of ${due.length} messages missed`);
    }
    s.socket?.close();
  });
  const severed = sockets.filter((s) => s.closes.length > 0).length;
  if (severed > 0) pass(`${severed} of ${sockets.length} WebSockets lost their replica and reconnected`);
  else fail(`none of ${sockets.length} WebSockets was on the killed messaging replica`);

  // ---- no lost or doubled money
  const counted = transfers.filter((t) => t.counted);
  let unknown = 0;
  for (const t of counted) {
    const r = await withRetry(() => call('check', 'GET', `/v1/transfers/${t.id}`, { token: t.from.token }));
    if (r.status !== 200 || r.json.amount !== t.amount) unknown++;
  }
  const out1 = counted.filter((t) => t.from === payer1).reduce((s, t) => s + t.amount, 0);
  const out2 = counted.filter((t) => t.from === payer2).reduce((s, t) => s + t.amount, 0);
  const expected = { p1: before.p1 - out1 + out2, p2: before.p2 - out2 + out1 };
  let after = null;
  for (let i = 0; i < 10; i++) {
    after = { p1: await balance(payer1), p2: await balance(payer2) };
    if (after.p1 === expected.p1 && after.p2 === expected.p2) break;
    await sleep(300);
  }
  summary.transfers_acknowledged = counted.length;
  if (counted.length > 0 && unknown === 0) pass(`all ${counted.length} acknowledged transfers exist`);
  else fail(`${unknown} of ${counted.length} acknowledged transfers not found`);
  if (after.p1 === expected.p1 && after.p2 === expected.p2) {
    pass(`wallets hold exactly what the acknowledged transfers left (${after.p1}, ${after.p2})`);
  } else {
    fail(`wallets ${JSON.stringify(after)}, expected ${JSON.stringify(expected)}`);
  }

  console.log(`figures: ${JSON.stringify(summary)}`);
  if (process.env.REPLICAS_LOAD_SUMMARY) writeFileSync(process.env.REPLICAS_LOAD_SUMMARY, JSON.stringify(summary, null, 2));
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
