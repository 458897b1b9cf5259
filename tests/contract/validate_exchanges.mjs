#!/usr/bin/env node
// Validates recorded exchanges against docs/api/openapi.yaml. The end-to-end
// tests' clients append each exchange to the file named by TCHAT_CONTRACT_RECORD
// (core/include/tchat/core/httpclient/exchange_recorder.hpp); scripts/test.sh
// sets it for the end-to-end phase and runs this afterwards.
//
//   node tests/contract/validate_exchanges.mjs <exchanges.jsonl>
//
// HTTP: each exchange must match a documented path and method (or be a 404/405
// error answer to a path or method no route serves), its status must be
// documented (or covered by `default`), and a JSON body must satisfy the schema
// of that response. WebSocket: every frame the server sent must satisfy
// WsServerFrame. Frames the client sent are test input, some deliberately
// invalid: each one is checked against WsClientFrame and the count of those
// outside it is reported, but only a type with no valid frame at all fails.
// Prints the first 20 failures and a summary; exit status 1 on any failure.
import { readFileSync } from 'node:fs';
import { loadDoc, operations, pathMatcher, webRequire } from './openapi_doc.mjs';

const MAX_SHOWN = 20;
const file = process.argv[2];
if (!file) {
  console.log('usage: validate_exchanges.mjs <exchanges.jsonl>');
  process.exit(2);
}

const doc = loadDoc();
const ajv = makeAjv(doc);
const pointerCache = new Map(); // JSON pointer into the document -> compiled validator
const matchPath = pathMatcher(doc);
const ops = new Map(operations(doc).map((o) => [`${o.method} ${o.path}`, o]));
const failures = [];
const seenOps = new Set();
const counts = { http: 0, unrouted: 0, recv: 0, sent: 0, sentOutside: 0 };
const sentTypes = new Map(); // a documented client frame type -> {valid, invalid}
const clientTypes = Object.keys(doc.components.schemas.WsClientFrame.discriminator.mapping);
compileAll();

const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
lines.forEach((line, i) => {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    failures.push(`line ${i + 1}: not JSON (a broken record): ${line.slice(0, 120)}`);
    return;
  }
  const problem = rec.kind === 'ws' ? checkFrame(rec) : checkHttp(rec);
  if (problem) failures.push(`line ${i + 1}: ${problem}`);
});
for (const [type, n] of sentTypes) {
  if (n.valid === 0) failures.push(`client frames of type "${type}": none of ${n.invalid} satisfies WsClientFrame`);
}

const documented = [...ops.keys()].filter((k) => !k.endsWith(' /v1/ws'));
const unexercised = documented.filter((k) => !seenOps.has(k)).sort();
console.log(
  `${lines.length} records: ${counts.http} HTTP exchanges (${counts.unrouted} to unrouted paths or methods), ` +
    `${counts.recv} server frames, ${counts.sent} client frames (${counts.sentOutside} outside WsClientFrame: invalid test input)`,
);
console.log(`operations exercised: ${documented.length - unexercised.length} of ${documented.length}`);
if (unexercised.length) console.log(`not exercised: ${unexercised.join(', ')}`);
if (lines.length === 0) failures.push(`${file} is empty: nothing was recorded`);
if (failures.length) {
  console.log(`FAIL: ${failures.length} exchange(s) do not match docs/api/openapi.yaml; the first ${Math.min(MAX_SHOWN, failures.length)}:`);
  for (const f of failures.slice(0, MAX_SHOWN)) console.log(`  ${f}`);
  process.exit(1);
}
console.log('PASS: every recorded exchange matches docs/api/openapi.yaml');

// ---------------------------------------------------------------------------

function makeAjv(document) {
  const Ajv2020 = webRequire('ajv/dist/2020').default;
  const addFormats = webRequire('ajv-formats').default;
  // strict: false lets OpenAPI's annotation keywords (discriminator, example)
  // through; oneOf does the discriminating.
  const a = new Ajv2020({ strict: false, allErrors: false });
  addFormats(a);
  a.addSchema(document, 'openapi');
  return a;
}

// Compiles every JSON response schema and the frame schemas up front, so that a
// schema Ajv cannot compile fails the run even when no exchange reaches it.
function compileAll() {
  for (const [key, op] of ops) {
    const [method, template] = key.split(' ');
    for (const [status, r] of Object.entries(op.operation.responses ?? {})) {
      if (!resolve(r).content?.['application/json']) continue;
      const base = r.$ref
        ? r.$ref.slice(1)
        : `/paths/${escapeToken(template)}/${method.toLowerCase()}/responses/${escapeToken(status)}`;
      validatorAt(`${base}/content/application~1json/schema`);
    }
  }
  validatorAt('/components/schemas/WsServerFrame');
  validatorAt('/components/schemas/WsClientFrame');
}

function validatorAt(pointer) {
  if (!pointerCache.has(pointer)) pointerCache.set(pointer, ajv.compile({ $ref: `openapi#${pointer}` }));
  return pointerCache.get(pointer);
}

function escapeToken(t) {
  return t.replaceAll('~', '~0').replaceAll('/', '~1');
}

function describeErrors(validate) {
  return (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}

function isErrorBody(text) {
  try {
    return validatorAt('/components/schemas/Error')(JSON.parse(text));
  } catch {
    return false;
  }
}

function checkHttp(rec) {
  counts.http++;
  const method = rec.method === 'HEAD' ? 'GET' : rec.method;
  const path = rec.target.split('?')[0];
  const what = `${rec.method} ${rec.target.slice(0, 100)} → ${rec.status}`;
  const template = matchPath(path);
  const op = template ? ops.get(`${method} ${template}`) : undefined;
  if (!op) {
    // A path or method no route serves: the answer is the standard error.
    const expected = template ? 405 : 404;
    if ((rec.status === expected || rec.status === 404) && isErrorBody(rec.body)) {
      counts.unrouted++;
      return null;
    }
    return `${what}: ${template ? 'method not documented for ' + template : 'no documented path'}`;
  }
  seenOps.add(`${method} ${template}`);
  const responses = op.operation.responses ?? {};
  const status = String(rec.status);
  const key = [status, `${status[0]}XX`, 'default'].find((k) => responses[k]);
  if (!key) return `${what}: status ${status} is not documented for ${method} ${template}`;
  const response = resolve(responses[key]);
  const pointerBase = responses[key].$ref
    ? responses[key].$ref.slice(1)
    : `/paths/${escapeToken(template)}/${method.toLowerCase()}/responses/${escapeToken(key)}`;
  if (rec.method === 'HEAD') return null;
  if (!response.content) {
    return rec.body === '' ? null : `${what}: documented without a body, answered ${rec.body.slice(0, 80)}`;
  }
  if (!response.content['application/json']) return null; // text, profiles: not JSON
  let body;
  try {
    body = JSON.parse(rec.body);
  } catch {
    return `${what}: the body is not JSON: ${rec.body.slice(0, 80)}`;
  }
  const validate = validatorAt(`${pointerBase}/content/application~1json/schema`);
  if (validate(body)) return null;
  return `${what}: ${describeErrors(validate)}`;
}

function resolve(obj) {
  if (!obj.$ref) return obj;
  return obj.$ref
    .slice(2)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((o, k) => o[k], doc);
}

function checkFrame(rec) {
  let frame;
  try {
    frame = JSON.parse(rec.frame);
  } catch {
    frame = undefined;
  }
  if (rec.direction === 'recv') {
    counts.recv++;
    if (frame === undefined) return `server frame is not JSON: ${rec.frame.slice(0, 80)}`;
    if (validatorAt('/components/schemas/WsServerFrame')(frame)) return null;
    // The errors of the frame's own schema say more than those of every oneOf branch.
    const mapped = doc.components.schemas.WsServerFrame.discriminator.mapping[frame?.type];
    if (!mapped) return `server frame of unknown type: ${rec.frame.slice(0, 100)}`;
    const own = validatorAt(mapped.slice(1));
    own(frame);
    return `server frame ${rec.frame.slice(0, 100)}: ${describeErrors(own)}`;
  }
  counts.sent++;
  const type = typeof frame?.type === 'string' ? frame.type : '<none>';
  const ok = frame !== undefined && validatorAt('/components/schemas/WsClientFrame')(frame);
  if (!ok) counts.sentOutside++;
  if (!clientTypes.includes(type)) return null;
  if (!sentTypes.has(type)) sentTypes.set(type, { valid: 0, invalid: 0 });
  sentTypes.get(type)[ok ? 'valid' : 'invalid']++;
  return null;
}
