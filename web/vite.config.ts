import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console build: hashed files under assets/ (served with a long cache), no inline
// script (the server's CSP allows scripts from 'self' only), nothing fetched from elsewhere.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
