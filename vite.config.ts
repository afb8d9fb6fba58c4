import { defineConfig } from 'vite';

// The demo / dashboard app lives in src/ui; `vite build` writes it to dist/ui,
// which `meshkeeper serve` (and so `npm start`) serves.
export default defineConfig({
  root: 'src/ui',
  publicDir: '../../public',
  build: {
    outDir: '../../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
  },
});
