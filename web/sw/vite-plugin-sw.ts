// Emits dist/sw.js at build time: sw/service-worker.js with the build's app shell
// (index.html, every emitted file except source maps, and public/'s files) and a
// version derived from their names and index.html, prepended as `const BUILD`.
// The hashed asset names change with their content, so a changed client is a
// changed sw.js, which is what makes the browser install the new version.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

const HERE = path.dirname(new URL(import.meta.url).pathname);

function publicFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...publicFiles(p, `${prefix}${name}/`));
    else out.push(`/${prefix}${name}`);
  }
  return out;
}

export function serviceWorker(): Plugin {
  let publicDir = '';
  return {
    name: 'tchat-service-worker',
    apply: 'build',
    // After Vite's HTML plugin, so index.html is in the bundle.
    enforce: 'post',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    generateBundle(_options, bundle) {
      const emitted = Object.keys(bundle)
        .filter((f) => !f.endsWith('.map') && f !== 'sw.js')
        .map((f) => `/${f}`);
      const shell = [
        ...new Set(['/index.html', ...emitted, ...(publicDir ? publicFiles(publicDir) : [])]),
      ].sort();
      const hash = createHash('sha256');
      for (const f of shell) hash.update(`${f}\n`);
      const index = bundle['index.html'];
      if (index && index.type === 'asset') hash.update(String(index.source));
      const build = { version: hash.digest('hex').slice(0, 16), shell };
      const source = readFileSync(path.join(HERE, 'service-worker.js'), 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: `const BUILD = ${JSON.stringify(build)};\n${source}`,
      });
    },
  };
}
