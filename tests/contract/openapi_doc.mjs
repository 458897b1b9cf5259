// The API contract (docs/api/openapi.yaml) as the contract tests read it: its
// operations, the service each belongs to, and the matching of a request path to
// a path template. The npm packages come from web/node_modules (the web client's
// devDependencies, installed by `npm ci` in web/).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DOC_PATH = join(ROOT, 'docs', 'api', 'openapi.yaml');
export const SERVICES = ['auth', 'messaging', 'payment', 'notification'];
// Routes every service registers (health, metrics, debug).
export const COMMON_TAG = 'operations';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// require() resolving from web/, where the packages are installed.
export const webRequire = createRequire(join(ROOT, 'web', 'package.json'));

export function loadDoc(path = DOC_PATH) {
  let YAML;
  try {
    YAML = webRequire('yaml');
  } catch {
    throw new Error('the npm package "yaml" is missing: run `npm ci` in web/ (scripts/install-deps.sh)');
  }
  return YAML.parse(readFileSync(path, 'utf8'));
}

// Every operation: { method: 'GET', path, tags, operation, pathItem }.
export function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const m of METHODS) {
      if (item[m]) out.push({ method: m.toUpperCase(), path, tags: item[m].tags ?? [], operation: item[m], pathItem: item });
    }
  }
  return out;
}

// The services an operation is registered by: its service tag, or all four for
// the common routes. Throws when an operation has neither or both kinds.
export function servicesOf(op) {
  const own = op.tags.filter((t) => SERVICES.includes(t));
  const common = op.tags.includes(COMMON_TAG);
  if (own.length + (common ? 1 : 0) !== 1) {
    throw new Error(`${op.method} ${op.path}: needs exactly one of the tags ${[...SERVICES, COMMON_TAG].join(', ')}`);
  }
  return common ? SERVICES : own;
}

function segments(path) {
  return path.split('/').slice(1);
}

const isParam = (seg) => seg.startsWith('{') && seg.endsWith('}');

// A matcher of request paths (no query string) to the document's path templates,
// with the services' precedence: at the first position where two templates
// differ, a literal segment wins over a parameter.
export function pathMatcher(doc) {
  const templates = Object.keys(doc.paths ?? {}).map((t) => ({ template: t, segs: segments(t) }));
  return (rawPath) => {
    const segs = segments(rawPath);
    let best = null;
    for (const t of templates) {
      if (t.segs.length !== segs.length) continue;
      if (!t.segs.every((s, i) => isParam(s) || s === segs[i])) continue;
      if (best === null || outranks(t.segs, best.segs)) best = t;
    }
    return best?.template ?? null;
  };
}

function outranks(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (isParam(a[i]) !== isParam(b[i])) return !isParam(a[i]);
  }
  return false;
}
