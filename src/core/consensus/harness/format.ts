/**
 * Text forms of entries, messages, Readys and status for the scenario scripts (testdata/*.txt):
 * one line per item, never a blank line (a blank line ends an expected output).
 */

import { decodeConfigEntry, formatConfig } from '../config.js';
import type { Message } from '../messages.js';
import type { Ready, Status } from '../raw-node.js';
import type { Entry, SnapshotMeta } from '../types.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Entry data shown inline when short, else by size. */
export function formatData(data: Uint8Array): string {
  if (data.length > 40) return `<${data.length} bytes>`;
  return JSON.stringify(utf8.decode(data));
}

export function formatEntry(entry: Entry): string {
  const head = `${entry.term}/${entry.index} ${entry.kind}`;
  if (entry.kind === 'noop') return head;
  if (entry.kind === 'config') {
    const decoded = decodeConfigEntry(entry.data);
    if (!decoded.ok) return `${head} <bad config: ${decoded.error}>`;
    return `${head} ${decoded.value.change.type} ${decoded.value.change.peer} -> ${formatConfig(decoded.value.config)}`;
  }
  return `${head} ${formatData(entry.data)}`;
}

export function formatSnapshotMeta(meta: SnapshotMeta): string {
  return `${meta.term}/${meta.index} ${formatConfig(meta.config)}`;
}

function formatBody(m: Message): string {
  switch (m.type) {
    case 'vote':
    case 'pre-vote':
      return `Last:${m.lastLogTerm}/${m.lastLogIndex}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return m.reject ? 'rejected' : 'granted';
    case 'append':
      return `Prev:${m.prevLogTerm}/${m.prevLogIndex} Commit:${m.commit}${m.entries.length > 0 ? ` Entries:[${m.entries.map(formatEntry).join(', ')}]` : ''}`;
    case 'append-response':
      return m.reject ? `Index:${m.index} rejected Hint:${m.rejectHintTerm}/${m.rejectHint}` : `Index:${m.index}`;
    case 'heartbeat':
      return `Commit:${m.commit}${m.readRound > 0 ? ` Round:${m.readRound}` : ''}`;
    case 'heartbeat-response':
      return m.readRound > 0 ? `Round:${m.readRound}` : '';
    case 'snapshot':
      return `Snap:${formatSnapshotMeta(m.meta)} Chunk:${m.offset}+${m.data.length}/${m.size}${m.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `Snap:${m.snapshotTerm}/${m.index} Offset:${m.offset}${m.resend ? ' resend' : ''}`;
    case 'read-index':
      return `Id:${m.requestId}`;
    case 'read-index-response':
      return `Id:${m.requestId} Index:${m.index}`;
    case 'timeout-now':
      return '';
    case 'transfer-leader':
      return `Target:${m.target}`;
  }
}

export function formatMessage(m: Message): string {
  const body = formatBody(m);
  return `${m.from}->${m.to} ${m.type} Term:${m.term}${body === '' ? '' : ` ${body}`}`;
}

export function formatReady(ready: Ready): string[] {
  const lines = [`Ready MustSync=${ready.mustSync}:`];
  if (ready.softState !== null) lines.push(`Lead:${ready.softState.leader ?? '-'} Role:${ready.softState.role}`);
  if (ready.hardState !== null) {
    const hs = ready.hardState;
    lines.push(`HardState Term:${hs.term} Vote:${hs.vote ?? '-'} Commit:${hs.commit}`);
  }
  if (ready.snapshot !== null) lines.push(`Snapshot ${formatSnapshotMeta(ready.snapshot.meta)} Bytes:${ready.snapshot.data.length}`);
  const section = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    lines.push(`${title}:`, ...items);
  };
  section('Entries', ready.entries.map(formatEntry));
  section('CommittedEntries', ready.committedEntries.map(formatEntry));
  section('MessagesBeforePersist', ready.messagesBeforePersist.map(formatMessage));
  section('Messages', ready.messages.map(formatMessage));
  section('ReadStates', ready.readStates.map((rs) => `Id:${rs.requestId} Index:${rs.index}`));
  return lines;
}

export function formatStatus(status: Status): string[] {
  const lines = [
    `${status.id}: ${status.role} Term:${status.term} Vote:${status.vote ?? '-'} Lead:${status.leader ?? '-'} ` +
      `Commit:${status.commit} Applied:${status.applied} Snapshot:${status.snapshotIndex} Last:${status.lastIndex} ` +
      `${formatConfig(status.config)}${status.leadTransferee !== null ? ` Transferee:${status.leadTransferee}` : ''}`,
  ];
  for (const p of status.progress ?? []) {
    const flags = [
      p.isLearner ? ' learner' : '',
      p.paused ? ' paused' : '',
      p.recentActive ? '' : ' inactive',
      p.inflightMessages > 0 ? ` inflight=${p.inflightMessages}/${p.inflightBytes}B` : '',
      p.snapshotIndex !== null ? ` snapshot=${p.snapshotIndex}@${p.snapshotOffset ?? 0}` : '',
    ].join('');
    lines.push(`  ${p.id}: ${p.state} match=${p.match} next=${p.next}${flags}`);
  }
  return lines;
}
