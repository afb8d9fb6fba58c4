/**
 * The writer of the SIGKILL crash test (storage-file.test.ts): a child process that opens file
 * storage in the directory given as its argument and runs the crash workload
 * (storage-crash-workload.ts), printing `ack <step>` once each step's storage call completed. The
 * parent kills it with SIGKILL at an arbitrary moment and replays the steps to know what must
 * have survived.
 */

import { fileURLToPath } from 'node:url';
import { runCrashWorkload } from './storage-crash-workload.js';
import { openFileStorage } from './storage-file.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: storage-file.crash-child.ts <dir>');
  await runCrashWorkload(await openFileStorage(dir), (step) => process.stdout.write(`ack ${step}\n`));
}
