// The part of node-zookeeper-client (1.1, no bundled types) that bench/zookeeper.ts uses.
declare module 'node-zookeeper-client' {
  import type { EventEmitter } from 'node:events';

  export interface ZkStat {
    version: number;
  }
  export interface ZkEvent {
    getType(): number;
    getPath(): string;
  }
  export type Watcher = (event: ZkEvent) => void;
  export class Exception extends Error {
    static readonly NO_NODE: number;
    static readonly NODE_EXISTS: number;
    static readonly CONNECTION_LOSS: number;
    getCode(): number;
  }
  export interface Client extends EventEmitter {
    connect(): void;
    close(): void;
    create(path: string, data: Buffer | null, mode: number, callback: (error: Exception | null, path: string) => void): void;
    remove(path: string, version: number, callback: (error: Exception | null) => void): void;
    exists(path: string, watcher: Watcher | null, callback: (error: Exception | null, stat: ZkStat | null) => void): void;
    getChildren(path: string, watcher: Watcher | null, callback: (error: Exception | null, children: string[], stat: ZkStat) => void): void;
    getData(path: string, watcher: Watcher | null, callback: (error: Exception | null, data: Buffer, stat: ZkStat) => void): void;
    setData(path: string, data: Buffer | null, version: number, callback: (error: Exception | null, stat: ZkStat) => void): void;
  }
  export const CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
  const zookeeper: { createClient: typeof createClient; CreateMode: typeof CreateMode; Exception: typeof Exception };
  export default zookeeper;
}
