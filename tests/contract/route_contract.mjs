#!/usr/bin/env node
// Compares the routes each service registered (its GET /debug/routes, saved to a
// file) with the operations of docs/api/openapi.yaml, set-equal per service: the
// operations tagged with the service's name plus those tagged `operations`
// (registered by every service).
//
//   node tests/contract/route_contract.mjs auth=auth.json messaging=messaging.json ...
//
// Prints one line per service and each difference; exit status 1 on any.
import { readFileSync } from 'node:fs';
import { loadDoc, operations, servicesOf } from './openapi_doc.mjs';

const doc = loadDoc();
const expected = new Map();
let failures = 0;
for (const op of operations(doc)) {
  let services;
  try {
    services = servicesOf(op);
  } catch (e) {
    console.log(`FAIL: ${e.message}`);
    failures++;
    continue;
  }
  for (const s of services) {
    if (!expected.has(s)) expected.set(s, new Set());
    expected.get(s).add(`${op.method} ${op.path}`);
  }
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.log('usage: route_contract.mjs <service>=<routes.json> ...');
  process.exit(2);
}
for (const arg of args) {
  const [service, file] = arg.split('=');
  let routes;
  try {
    routes = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`FAIL: ${service}: cannot read its routes from ${file}: ${e.message}`);
    failures++;
    continue;
  }
  const registered = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const documented = expected.get(service) ?? new Set();
  const undocumented = [...registered].filter((r) => !documented.has(r)).sort();
  const missing = [...documented].filter((r) => !registered.has(r)).sort();
  if (undocumented.length === 0 && missing.length === 0) {
    console.log(`PASS: ${service}: its ${registered.size} routes are the document's`);
    continue;
  }
  failures++;
  console.log(`FAIL: ${service}: routes and docs/api/openapi.yaml differ`);
  for (const r of undocumented) console.log(`    registered, not in the document: ${r}`);
  for (const r of missing) console.log(`    in the document, not registered:  ${r}`);
}
process.exit(failures ? 1 : 0);
