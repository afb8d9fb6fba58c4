/**
 * One Node edge peer of the benchmark's Node ensemble, in its own process (so a leader can be
 * killed with SIGKILL, and peers do not share an event loop), with a session of its own on its own
 * peer: the Node counterpart of a tab. bench/run.ts drives it over the IPC channel:
 * `{ id, cmd, args }` in, `{ id, ok, value | error }` out.
 */
import { Keeper } from '../src/node.js';
import { hostOnPeer } from '../src/client/network.js';
import { Lock } from '../src/recipes/index.js';
import { startNodePeer, type NodePeer } from '../src/platform/node.js';
import { awaitAcquire, beginAcquire, runLockClient, runOps, sharedClock, writeUntilSuccess, type LockSpec, type OpsSpec } from './workloads.js';

export interface WorkerRequest {
  id: number;
  cmd: 'start' | 'status' | 'ops' | 'lock' | 'ensure' | 'write-until-success' | 'begin-acquire' | 'await-acquire' | 'heap-used' | 'leave';
  args?: unknown;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

let peer: NodePeer | null = null;
let keeper: Keeper | null = null;

function theKeeper(): Keeper {
  if (keeper === null) throw new Error('not started');
  return keeper;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'start': {
      const { relay, room, sessionTimeoutMs } = request.args as { relay: string; room: string; sessionTimeoutMs: number };
      peer = await startNodePeer({ kind: 'network', relay, room, secret: 'bench', storage: 'memory', voters: 3, sessionTimeoutMs, requestTimeoutMs: 0 });
      keeper = await Keeper.open(hostOnPeer(peer), { sessionTimeoutMs, requestTimeoutMs: 0 });
      return keeper.status().peerId;
    }
    case 'status':
      return theKeeper().status();
    case 'ensure': {
      // Creates each path if missing (parents first).
      for (const path of request.args as string[]) {
        await theKeeper().create(path, new Uint8Array(16)).catch((error: { code?: string }) => {
          if (error.code !== 'NODEEXISTS') throw error;
        });
      }
      return null;
    }
    case 'ops':
      return runOps(theKeeper(), request.args as OpsSpec);
    case 'lock': {
      const { path, spec } = request.args as { path: string; spec: LockSpec };
      return runLockClient(new Lock(theKeeper(), path), spec);
    }
    case 'write-until-success': {
      const { prefix, deadlineMs } = request.args as { prefix: string; deadlineMs: number };
      return writeUntilSuccess(theKeeper(), prefix, deadlineMs);
    }
    case 'begin-acquire': {
      const { path, key } = request.args as { path: string; key: string };
      beginAcquire(key, new Lock(theKeeper(), path));
      return null;
    }
    case 'await-acquire': {
      const { key, timeoutMs, release } = request.args as { key: string; timeoutMs: number; release: boolean };
      return awaitAcquire(key, timeoutMs, release);
    }
    case 'heap-used': {
      // --expose-gc (bench/systems.ts forks with it): a full GC first, so the figure is what is live.
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage().heapUsed;
    }
    case 'leave': {
      await keeper?.close().catch(() => undefined);
      await peer?.leave();
      return null;
    }
  }
}

process.on('message', (message: WorkerRequest) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies WorkerReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
// A graceful stop (workload g): close the session and leave the ensemble, then exit.
process.once('SIGTERM', () => {
  void (async () => {
    await keeper?.close().catch(() => undefined);
    await peer?.leave().catch(() => undefined);
  })().finally(() => process.exit(0));
});
sharedClock(); // calibrate before any timed work
process.send?.({ id: 0, ok: true, value: 'ready' } satisfies WorkerReply);
