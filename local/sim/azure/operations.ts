/**
 * Long-running ARM operations. An operation's state is computed from the clock when asked (a virtual clock
 * works: nothing runs in the background).
 */
import { randomUUID } from 'node:crypto';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

export interface OperationState {
  status: OperationStatus;
  endTime?: Date;
  error?: { code: string; message: string };
  /** What the operation-result (Location) URL answers once succeeded; 204 when undefined. */
  result?: unknown;
}

export interface SimOperation {
  id: string;
  /** Path segment of the status URLs, e.g. `distributedAvailabilityGroups` → `…AzureAsyncOperation/{id}`. */
  kind: string;
  subscriptionId: string;
  location: string;
  startTime: Date;
  state(now: Date): OperationState;
}

export class OperationStore {
  private readonly ops = new Map<string, SimOperation>();
  private readonly pending = new Map<string, SimOperation>();

  create(init: Omit<SimOperation, 'id'>): SimOperation {
    const op: SimOperation = { id: randomUUID(), ...init };
    this.ops.set(op.id, op);
    this.pending.set(op.id, op);
    return op;
  }

  /** Brings every unfinished operation up to `now`, so their effects happen whether or not anyone polls. */
  settle(now: Date): void {
    for (const [id, op] of this.pending) {
      if (op.state(now).status !== 'InProgress') this.pending.delete(id);
    }
  }

  get(id: string): SimOperation | undefined {
    return this.ops.get(id.toLowerCase()) ?? this.ops.get(id);
  }
}

/** An operation that finishes at `doneAt` with `finish()`'s outcome (evaluated once, at the first look after). */
export function timedOperation(
  init: { kind: string; subscriptionId: string; location: string; startTime: Date; doneAt: Date },
  finish: (at: Date) => Omit<OperationState, 'status' | 'endTime'> & { status?: OperationStatus },
): Omit<SimOperation, 'id'> {
  let settled: OperationState | undefined;
  return {
    kind: init.kind,
    subscriptionId: init.subscriptionId,
    location: init.location,
    startTime: init.startTime,
    state(now: Date): OperationState {
      if (settled) return settled;
      if (now.getTime() < init.doneAt.getTime()) return { status: 'InProgress' };
      const outcome = finish(init.doneAt);
      settled = {
        ...outcome,
        status: outcome.status ?? (outcome.error ? 'Failed' : 'Succeeded'),
        endTime: init.doneAt,
      };
      return settled;
    },
  };
}
