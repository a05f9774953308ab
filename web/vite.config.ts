import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser client: plain TypeScript, built to web/dist and served by every node.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // No source maps: the node would otherwise publish the client's source (it never serves *.map either).
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  server: { proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
