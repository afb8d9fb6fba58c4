// A `meshkeeper peer` child process for Node integration tests (processes.test.ts,
// client-only.test.ts): spawned from the sources with memory storage, its output kept, its peer
// id read from the line it prints once it has joined.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface PeerChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** The id the peer printed (`peer <id> room <room> data <dir>`); rejects if it exits first. */
  readonly peerId: Promise<string>;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output: string;
}

export function spawnPeer(relayUrl: string, room: string, secret: string): PeerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/cli.ts', 'peer', '--relay', relayUrl, '--room', room, '--secret', secret, '--memory'], { stdio: 'pipe' });
  const record: PeerChild = { process: child, output: '', peerId: Promise.resolve('') };
  Object.assign(record, {
    peerId: new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        record.output += chunk.toString();
        const match = record.output.match(/^peer (\S+) room (\S+) data \S+/m);
        if (match !== null) resolve(match[1] as string);
      });
      child.stderr.on('data', (chunk: Buffer) => (record.output += chunk.toString()));
      child.once('exit', (code, signal) => reject(new Error(`peer process exited (${code ?? signal}) before printing its id:\n${record.output}`)));
    }),
  });
  return record;
}
