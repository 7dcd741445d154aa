import type { MsgReadIndex, NodeId } from './messages.js';

export interface ReadIndexStatus {
  req: MsgReadIndex;
  /** Commit index when the request arrived; the read is safe once the caller has applied up to it. */
  index: number;
  acks: Set<NodeId>;
}

/**
 * ReadIndex requests waiting for a heartbeat round to confirm the leader is still the leader. A quorum ack for
 * one context also confirms every request queued before it, since those were answered by the same leadership.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  addRequest(index: number, m: MsgReadIndex): void {
    if (this.pending.has(m.context)) return;
    this.pending.set(m.context, { req: m, index, acks: new Set() });
    this.queue.push(m.context);
  }

  recvAck(id: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const rs = this.pending.get(context);
    if (rs === undefined) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Dequeues and returns every request up to and including `context`. */
  advance(context: string): ReadIndexStatus[] {
    const i = this.queue.indexOf(context);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadIndexStatus[] = [];
    for (const ctx of done) {
      const rs = this.pending.get(ctx);
      if (rs === undefined) throw new Error('raft: cannot find corresponding read state from pending map');
      this.pending.delete(ctx);
      out.push(rs);
    }
    return out;
  }

  lastPendingRequestContext(): string | undefined {
    return this.queue[this.queue.length - 1];
  }
}
