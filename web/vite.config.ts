import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser client: plain TypeScript, built to web/dist and served by every node.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
});
