import { defineConfig } from 'vite';
import { parseConfirmThresholds } from './src/util/confirm-thresholds';
import { bundleBudget } from './scripts/bundle-budget';
import { serviceWorker } from './sw/vite-plugin-sw';

// The gateway serves dist/ at "/" with a fallback to index.html, so the client
// uses absolute asset paths and history-API routes. `npm run dev` proxies the API
// (and the development payment provider) to a local gateway started by
// scripts/start.sh.
const gateway = process.env.TCHAT_GATEWAY_URL ?? 'http://127.0.0.1:8080';
// A malformed setting stops the build here instead of breaking the page at load.
parseConfirmThresholds(process.env.VITE_MONEY_CONFIRM_ABOVE ?? '');

export default defineConfig({
  base: '/',
  plugins: [serviceWorker(), bundleBudget()],
  build: {
    outDir: 'dist',
    target: 'es2022',
    sourcemap: true,
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/v1/ws': { target: gateway.replace(/^http/, 'ws'), ws: true },
      '/v1': gateway,
      '/dev/psp': gateway,
    },
  },
});
