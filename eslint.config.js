// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// What keeps src/core pure: the simulator runs the core, so time, randomness, timers, I/O and
// awaiting all come in from outside (DESIGN.md, "Layers"). Each entry says what to do instead.
const impureGlobals = [
  ['Date', 'time comes in as an argument (the leader writes its clock into the txn)'],
  ['performance', 'time comes in as an argument'],
  ['setTimeout', 'the core is driven by tick()'],
  ['setInterval', 'the core is driven by tick()'],
  ['setImmediate', 'the core is driven by tick()'],
  ['clearTimeout', 'the core is driven by tick()'],
  ['clearInterval', 'the core is driven by tick()'],
  ['queueMicrotask', 'the core is synchronous'],
  ['requestAnimationFrame', 'the core is driven by tick()'],
  ['window', 'no DOM in the core'],
  ['document', 'no DOM in the core'],
  ['navigator', 'no DOM in the core'],
  ['localStorage', 'storage is an adapter'],
  ['indexedDB', 'storage is an adapter (src/adapters)'],
  ['IDBFactory', 'storage is an adapter (src/adapters)'],
  ['fetch', 'I/O is an adapter'],
  ['WebSocket', 'transport is an adapter'],
  ['RTCPeerConnection', 'transport is an adapter'],
  ['BroadcastChannel', 'transport is an adapter'],
  ['Worker', 'no threads in the core'],
  ['crypto', 'randomness comes from a seeded PRNG passed in'],
  ['process', 'no Node APIs in the core'],
  ['Buffer', 'use Uint8Array; no Node APIs in the core'],
  ['require', 'ESM only; no Node APIs in the core'],
  ['global', 'no Node APIs in the core'],
  ['globalThis', 'no ambient state in the core'],
  ['console', 'the core returns data; logging is the caller\'s'],
].map(([name, why]) => ({ name, message: `src/core is pure: ${why}.` }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', window: 'readonly', document: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        performance: 'readonly', navigator: 'readonly', URL: 'readonly', TextEncoder: 'readonly',
        TextDecoder: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly',
        globalThis: 'readonly', queueMicrotask: 'readonly', crypto: 'readonly', indexedDB: 'readonly',
        BroadcastChannel: 'readonly', WebSocket: 'readonly', HTMLElement: 'readonly', Event: 'readonly',
        EventTarget: 'readonly', CustomEvent: 'readonly', Worker: 'readonly', self: 'readonly',
        structuredClone: 'readonly', fetch: 'readonly', location: 'readonly', localStorage: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'src/core is pure: randomness comes from a seeded PRNG passed in.' },
      ],
      'no-restricted-syntax': ['error',
        { selector: 'AwaitExpression', message: 'src/core is pure and synchronous: no await.' },
        { selector: 'ForOfStatement[await=true]', message: 'src/core is pure and synchronous: no for await.' },
        { selector: ':function[async=true]', message: 'src/core is pure and synchronous: no async functions.' },
        { selector: 'NewExpression[callee.name="Promise"]', message: 'src/core is pure and synchronous: no promises.' },
      ],
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'worker_threads', 'events', 'stream', 'util'], message: 'src/core is pure: no Node APIs.' },
          { group: ['**/peer/**', '**/adapters/**', '**/client/**', '**/ui/**', '**/edge/**', '**/relay/**', '**/sim/**', '**/testing/**', '**/recipes/**'], message: 'src/core sits at the bottom: nothing reaches upward.' },
          { group: ['idb', 'simple-peer', 'ws', 'yjs', 'y-protocols', 'y-protocols/*', 'node-datachannel'], message: 'src/core is pure: I/O libraries belong in adapters.' },
        ],
      }],
    },
  },
);
