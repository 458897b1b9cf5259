#!/usr/bin/env node
// @ts-check
// DEVELOPMENT ONLY — a stand-in for the payment provider (PSP) of the local
// system. scripts/start.sh and scripts/test.sh start it; the gateway proxies
// /dev/psp/ to it only on those local stacks (a file in the run directory's
// nginx/dev.d/, never in the shipped gateway configuration).
//
// A real top-up goes: the client creates a pending top-up (POST /v1/topups) →
// the user pays on the provider's page → the provider calls the payment service's
// webhook (POST /v1/webhooks/psp, signed with the shared secret). This script is
// that provider: GET /dev/psp/pay shows a "pay" page for a provider_reference,
// and its buttons make it send the signed topup.succeeded / topup.failed event,
// then send the browser back to the client. The webhook secret stays here, on
// the server side; the browser never sees it.
//
// Environment: TCHAT_PSP_WEBHOOK_SECRET (required), TCHAT_PSP_SIM_PORT [8089],
// TCHAT_PSP_WEBHOOK_URL [http://127.0.0.1:$TCHAT_PAYMENT_PORT/v1/webhooks/psp,
// port default 8083]. No dependencies beyond Node (18 or later).
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';

const BASE = '/dev/psp';
const secret = process.env.TCHAT_PSP_WEBHOOK_SECRET ?? '';
const port = Number(process.env.TCHAT_PSP_SIM_PORT ?? 8089);
const webhookUrl =
  process.env.TCHAT_PSP_WEBHOOK_URL ??
  `http://127.0.0.1:${process.env.TCHAT_PAYMENT_PORT ?? 8083}/v1/webhooks/psp`;

if (!secret) {
  console.error('psp-simulator: TCHAT_PSP_WEBHOOK_SECRET is not set');
  process.exit(2);
}

const METHOD_NAMES = /** @type {Record<string, string>} */ ({
  promptpay: 'PromptPay',
  truemoney: 'TrueMoney',
  paynow: 'PayNow',
  grabpay: 'GrabPay',
  qris: 'QRIS',
  gopay: 'GoPay',
  ovo: 'OVO',
  dana: 'DANA',
  duitnow: 'DuitNow',
  touchngo: "Touch 'n Go",
  gcash: 'GCash',
  maya: 'Maya',
  vietqr: 'VietQR',
  momo: 'MoMo',
  zalopay: 'ZaloPay',
  card: 'Card',
});
const MINOR_UNITS = /** @type {Record<string, number>} */ ({ VND: 0 });

/**
 * The fields of a payment, validated. What the page shows and what the webhook
 * carries come from here; the payment service checks them against the pending
 * top-up (unknown reference → 404, other amount → 422), so a forged link cannot
 * credit anything that was not asked for.
 * @param {URLSearchParams} q
 */
function paymentFrom(q) {
  const reference = q.get('reference') ?? '';
  const amount = Number(q.get('amount'));
  const currency = (q.get('currency') ?? '').toUpperCase();
  const method = q.get('method') ?? '';
  const ret = q.get('return') ?? '/wallet';
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(reference)) return null;
  if (!Number.isSafeInteger(amount) || amount <= 0) return null;
  if (!/^[A-Z]{3}$/.test(currency)) return null;
  // Only paths of this origin: never an open redirect.
  const safeReturn =
    ret.startsWith('/') && !ret.startsWith('//') && !ret.includes('\\') ? ret : '/wallet';
  return { reference, amount, currency, method, ret: safeReturn };
}

/** @param {number} amount @param {string} currency */
function major(amount, currency) {
  const d = MINOR_UNITS[currency] ?? 2;
  const s = String(amount).padStart(d + 1, '0');
  return d ? `${s.slice(0, -d)}.${s.slice(-d)}` : s;
}

/** @param {string} s */
function esc(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tchat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")> (docs/api/openapi.yaml, payment). */
/** @param {string} body */
function sign(body) {
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Sends the provider event to the payment service.
 * @param {{reference: string, amount: number, currency: string}} p
 * @param {boolean} ok
 * @returns {Promise<{status: number, body: string}>}
 */
function sendWebhook(p, ok) {
  const body = JSON.stringify({
    id: `evt_sim_${randomBytes(12).toString('hex')}`,
    type: ok ? 'topup.succeeded' : 'topup.failed',
    reference: p.reference,
    amount: p.amount,
    currency: p.currency,
  });
  return new Promise((resolve) => {
    const req = http.request(
      webhookUrl,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'Tchat-Signature': sign(body),
        },
        timeout: 10_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: String(err) }));
    req.end(body);
  });
}

/** @param {string} title @param {string} inner */
function page(title, inner) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="data:,">
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#eef1f5;color:#17212b;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:18px;box-shadow:0 10px 40px #0002;padding:28px;width:min(400px,calc(100vw - 32px))}
.dev{background:#fff4d6;border-radius:8px;padding:6px 10px;font-size:.85rem;font-weight:600}
h1{font-size:1.2rem}.amount{font-size:2rem;font-weight:800;margin:8px 0}.muted{color:#5f6b78}
form{display:flex;gap:8px;margin-top:18px}button{flex:1;font:inherit;padding:12px;border-radius:10px;border:1px solid #c9d0d8;background:#fff;cursor:pointer}
button.pay{background:#2c5aa0;border-color:#2c5aa0;color:#fff;font-weight:700}
code{word-break:break-all}
</style></head><body><main>${inner}</main></body></html>`;
}

/** @param {http.ServerResponse} res @param {number} status @param {string} html */
function sendHtml(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'",
  });
  res.end(html);
}

/** @param {http.IncomingMessage} req @returns {Promise<string>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      data += c;
      if (data.length > 10_000) reject(new Error('too large'));
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === `${BASE}/health`) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok","service":"psp-simulator"}');
      return;
    }
    if (url.pathname === `${BASE}/pay` && req.method === 'GET') {
      const p = paymentFrom(url.searchParams);
      if (!p) {
        sendHtml(
          res,
          400,
          page(
            'Bad payment link',
            '<h1>Bad payment link</h1><p class="muted">The link misses a reference, amount or currency.</p>',
          ),
        );
        return;
      }
      const hidden = (/** @type {string} */ name, /** @type {string} */ value) =>
        `<input type="hidden" name="${name}" value="${esc(value)}">`;
      const fields =
        hidden('reference', p.reference) +
        hidden('amount', String(p.amount)) +
        hidden('currency', p.currency) +
        hidden('method', p.method) +
        hidden('return', p.ret);
      sendHtml(
        res,
        200,
        page(
          'Pay — Tchat payment simulator',
          `
<p class="dev">Development payment simulator — no real money moves.</p>
<h1>Pay with ${esc(METHOD_NAMES[p.method] ?? p.method ?? 'provider')}</h1>
<div class="amount" data-testid="psp-amount">${esc(major(p.amount, p.currency))} ${esc(p.currency)}</div>
<p class="muted">Reference <code>${esc(p.reference)}</code></p>
<form method="post" action="${BASE}/pay">${fields}
<button type="submit" name="outcome" value="fail">Decline</button>
<button type="submit" name="outcome" value="pay" class="pay" autofocus>Pay now</button>
</form>`,
        ),
      );
      return;
    }
    if (url.pathname === `${BASE}/pay` && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const p = paymentFrom(form);
      if (!p) {
        sendHtml(res, 400, page('Bad payment', '<h1>Bad payment</h1>'));
        return;
      }
      const ok = form.get('outcome') === 'pay';
      const answer = await sendWebhook(p, ok);
      console.log(
        JSON.stringify({
          time: new Date().toISOString(),
          msg: 'webhook sent',
          reference: p.reference,
          outcome: ok ? 'succeeded' : 'failed',
          status: answer.status,
        }),
      );
      if (answer.status >= 200 && answer.status < 300) {
        res.writeHead(303, { Location: p.ret, 'Cache-Control': 'no-store' });
        res.end();
        return;
      }
      sendHtml(
        res,
        502,
        page(
          'Payment not confirmed',
          `
<h1>The payment service refused the confirmation</h1>
<p class="muted">HTTP ${answer.status}: <code>${esc(answer.body.slice(0, 300))}</code></p>
<p><a href="${esc(p.ret)}">Back to Tchat</a></p>`,
        ),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"error":{"code":"not_found","message":"no such endpoint"}}');
  } catch (err) {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'internal', message: String(err) } }));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(
    JSON.stringify({
      time: new Date().toISOString(),
      msg: 'psp simulator listening',
      port,
      webhook: webhookUrl,
    }),
  );
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
