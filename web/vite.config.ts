/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API server during `npm run dev` (`make run` serves on :8000).
const api = process.env['MYDRTV_API'] ?? 'http://127.0.0.1:8000';

// First path segments that belong to the server, never to the client's router.
const serverPaths = [
  'accounts',
  'auth',
  'me',
  'users',
  'videos',
  'comments',
  'parties',
  'moderation',
  'media',
  'health',
  'schema',
];

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      // Only API calls (not page navigations, which accept text/html) go to the server.
      ...Object.fromEntries(
        serverPaths.map((p) => [
          `^/${p}(/|$|\\?)`,
          {
            target: api,
            bypass: (req: { headers: { accept?: string } }) =>
              req.headers.accept?.includes('text/html') ? '/index.html' : undefined,
          },
        ]),
      ),
      '/ws': { target: api.replace(/^http/, 'ws'), ws: true },
    },
  },
  build: { target: 'es2022', sourcemap: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
