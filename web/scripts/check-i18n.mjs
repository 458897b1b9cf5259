#!/usr/bin/env node
// Checks the interface texts (src/i18n/): every language has exactly the keys of
// en.ts, each plural text has the forms its language's Intl.PluralRules uses, each
// text has the {placeholders} of the English one, and every key is used by the code
// (a quoted literal in src/ outside src/i18n/). Exits 1 with the list of problems.
// Run by `npm run build` (so by scripts/test.sh's web step) and `npm run check:i18n`.
import { readdir, readFile, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const I18N = path.join(WEB, 'src/i18n');
/** Language code → BCP 47 tag for Intl.PluralRules (as src/i18n/index.ts). */
const LANGS = { en: 'en', th: 'th', id: 'id', ms: 'ms', fil: 'fil', vi: 'vi' };

const problems = [];

/** Imports a dictionary module: TypeScript → JavaScript (only type imports to drop). */
async function loadTable(dir, lang) {
  const src = await readFile(path.join(I18N, `${lang}.ts`), 'utf8');
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = path.join(dir, `${lang}.mjs`);
  await writeFile(file, js);
  const mod = await import(pathToFileURL(file).href);
  if (!mod[lang]) throw new Error(`src/i18n/${lang}.ts does not export "${lang}"`);
  return mod[lang];
}

const placeholders = (text) =>
  [...text.matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1])
    .sort()
    .join(',');

async function sourceFiles(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== I18N) out.push(...(await sourceFiles(p)));
    } else if (/\.ts$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

/** Checks one language's table against English. */
function checkTable(lang, table, en) {
  const categories = new Intl.PluralRules(LANGS[lang]).resolvedOptions().pluralCategories;
  for (const key of Object.keys(en)) {
    if (!(key in table)) {
      problems.push(`${lang}: missing key "${key}"`);
      continue;
    }
    const want = en[key];
    const have = table[key];
    if (typeof want === 'string') {
      if (typeof have !== 'string') problems.push(`${lang}: "${key}" must be a plain text`);
      else if (!have.trim()) problems.push(`${lang}: "${key}" is empty`);
      else if (placeholders(have) !== placeholders(want))
        problems.push(
          `${lang}: "${key}" has {${placeholders(have)}}, English {${placeholders(want)}}`,
        );
      continue;
    }
    if (typeof have !== 'object' || have === null) {
      problems.push(`${lang}: "${key}" must be a plural text (forms ${categories.join(', ')})`);
      continue;
    }
    const forms = Object.keys(have).sort().join(',');
    if (forms !== [...categories].sort().join(',')) {
      problems.push(
        `${lang}: "${key}" has the forms ${forms}; ${lang} uses ${categories.join(', ')}`,
      );
    }
    for (const [form, text] of Object.entries(have)) {
      if (placeholders(text) !== placeholders(want.other))
        problems.push(
          `${lang}: "${key}" (${form}) has {${placeholders(text)}}, English {${placeholders(want.other)}}`,
        );
    }
  }
  for (const key of Object.keys(table)) {
    if (!(key in en)) problems.push(`${lang}: key "${key}" is not in en.ts`);
  }
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'tchat-i18n-'));
  try {
    const files = (await readdir(I18N)).filter((f) => /^[a-z]+\.ts$/.test(f) && f !== 'index.ts');
    const found = files.map((f) => f.replace(/\.ts$/, '')).sort();
    const known = Object.keys(LANGS).sort();
    if (found.join() !== known.join()) {
      problems.push(`src/i18n/ has ${found.join(', ')}; this check knows ${known.join(', ')}`);
    }
    const en = await loadTable(dir, 'en');
    for (const lang of known.filter((l) => l !== 'en')) {
      if (found.includes(lang)) checkTable(lang, await loadTable(dir, lang), en);
    }
    checkTable('en', en, en);

    const code = (
      await Promise.all((await sourceFiles(path.join(WEB, 'src'))).map((f) => readFile(f, 'utf8')))
    ).join('\n');
    const used = new Set(
      [...code.matchAll(/['"`]([a-zA-Z]+(?:\.[a-zA-Z_]+)+)['"`]/g)].map((m) => m[1]),
    );
    for (const key of Object.keys(en)) {
      if (!used.has(key)) problems.push(`en: key "${key}" is not used in src/ (outside src/i18n/)`);
    }
    const count = Object.keys(en).length;
    if (problems.length) {
      console.error(`check-i18n: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(
        `check-i18n: ${count} keys in ${known.length} languages (${known.join(', ')}), all present and used`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
