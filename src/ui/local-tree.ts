/**
 * The app's local data model for this issue: one DataTree in this tab, driven exactly as a leader
 * drives it (prep with the overlay, then apply at the next zxid). The runtime issue replaces this
 * with a Keeper joined to an ensemble; the page code above it stays.
 */
import { TreeHarness, type CreateMode, OPEN_ACL_UNSAFE, type Stat, type WriteResult } from '../core/tree/index.js';

export const TAB_SESSION = 'tab-session';

export interface NodeView {
  path: string;
  data: string;
  stat: Stat;
  children: string[];
}

export class LocalTree {
  private readonly harness = new TreeHarness();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor() {
    this.harness.now = Date.now();
    this.harness.openSession(TAB_SESSION);
  }

  private write(request: Parameters<TreeHarness['run']>[0]): WriteResult {
    this.harness.now = Date.now();
    return this.harness.run(request, { sessionId: TAB_SESSION }).result;
  }

  create(path: string, data: string, mode: CreateMode, ttlMs?: number): WriteResult {
    const request = { op: 'create' as const, path, data: this.encoder.encode(data), acl: [...OPEN_ACL_UNSAFE], mode };
    return this.write(ttlMs === undefined ? request : { ...request, ttlMs });
  }

  setData(path: string, data: string, version: number): WriteResult {
    return this.write({ op: 'setData', path, data: this.encoder.encode(data), version });
  }

  delete(path: string, version: number): WriteResult {
    return this.write({ op: 'delete', path, version });
  }

  /** Every node, depth first, children sorted (ZooKeeper's getChildren order). */
  walk(path = '/', out: NodeView[] = []): NodeView[] {
    const read = this.harness.tree.read({ op: 'getData', path, watch: false }, { sessionId: TAB_SESSION, auth: [] });
    const kids = this.harness.tree.read({ op: 'getChildren', path, watch: false }, { sessionId: TAB_SESSION, auth: [] });
    if (!read.ok || read.op !== 'getData' || !kids.ok || kids.op !== 'getChildren') return out;
    out.push({ path, data: this.decoder.decode(read.data), stat: read.stat, children: kids.children });
    for (const child of kids.children) this.walk(path === '/' ? `/${child}` : `${path}/${child}`, out);
    return out;
  }

  get lastZxid(): number {
    return this.harness.tree.lastZxid;
  }
}
