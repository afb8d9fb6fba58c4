/**
 * One-line forms of Raft messages for the simulator's trace: short (an append shows its range of
 * entries, not their bytes), because the trace keeps thousands of them.
 */

import type { Message } from '../../core/consensus/index.js';

export function formatMessageShort(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      return `${head} last=${m.lastLogTerm}/${m.lastLogIndex}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'append': {
      const first = m.entries[0];
      const range = first === undefined ? '' : ` [${first.index}..${first.index + m.entries.length - 1}]`;
      return `${head} prev=${m.prevLogTerm}/${m.prevLogIndex} commit=${m.commit}${range}`;
    }
    case 'append-response':
      return m.reject ? `${head} index=${m.index} rejected hint=${m.rejectHintTerm}/${m.rejectHint}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.readRound > 0 ? ` round=${m.readRound}` : ''}`;
    case 'heartbeat-response':
      return m.readRound > 0 ? `${head} round=${m.readRound}` : head;
    case 'snapshot':
      return `${head} snap=${m.meta.term}/${m.meta.index} chunk=${m.offset}+${m.data.length}/${m.size}${m.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `${head} snap=${m.snapshotTerm}/${m.index} offset=${m.offset}${m.resend ? ' resend' : ''}`;
    case 'read-index':
      return `${head} id=${m.requestId}`;
    case 'read-index-response':
      return `${head} id=${m.requestId} index=${m.index}`;
    case 'timeout-now':
      return head;
    case 'transfer-leader':
      return `${head} target=${m.target}`;
  }
}
