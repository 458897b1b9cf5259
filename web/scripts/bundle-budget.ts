// A Vite plugin that fails the build when the JavaScript the first page load needs
// (index.html's module script and the chunks it preloads) is over budget gzipped:
// issue 20 sets 100 KB. Languages other than English and anything loaded later are
// chunks of their own and not counted. Prints the figure on every build.
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

export const INITIAL_JS_BUDGET_BYTES = 100 * 1024;

export function bundleBudget(budget = INITIAL_JS_BUDGET_BYTES): Plugin {
  return {
    name: 'tchat-bundle-budget',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const index = bundle['index.html'];
      if (!index || index.type !== 'asset') return;
      const html = String(index.source);
      const initial = [
        ...html.matchAll(/<(?:script[^>]*src|link[^>]*modulepreload[^>]*href)="\/([^"]+\.js)"/g),
      ]
        .map((m) => m[1]!)
        .filter((f, i, all) => all.indexOf(f) === i);
      let total = 0;
      for (const file of initial) {
        const chunk = bundle[file];
        if (!chunk) continue;
        const code = chunk.type === 'chunk' ? chunk.code : String(chunk.source);
        total += gzipSync(code, { level: 9 }).length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      this.info(
        `initial JavaScript ${kb(total)} gzip (${initial.join(', ')}; budget ${kb(budget)})`,
      );
      if (total > budget) {
        this.error(`initial JavaScript is ${kb(total)} gzip, over the budget of ${kb(budget)}`);
      }
    },
  };
}
