/**
 * Durable state on disk: one JSON file per instance (`<stateDir>/instances/<id>.json`), replaced atomically
 * (write to a temporary file, then rename) so a host killed at any moment leaves either the old or the new
 * version, never a torn one.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent } from './history.js';

export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew';

export interface InstanceRecord {
  instanceId: string;
  name: string;
  /** JSON text of the orchestration input. */
  input?: string;
  runtimeStatus: RuntimeStatus;
  /** JSON text of the output (the error text when failed, the reason when terminated). */
  output?: string;
  customStatus?: string;
  createdTime: string;
  lastUpdatedTime: string;
  /** Events acted on by the orchestrator, episode after episode. */
  history: HistoryEvent[];
  /** Events received (completions, timer firings, external events) that the next episode will add. */
  inbox: HistoryEvent[];
  /** Increases with each new execution (continue-as-new, restart with the same id). */
  execution: number;
  canceledTimers?: number[];
  parent?: { instanceId: string; taskId: number; execution: number };
}

export class InstanceStore {
  private readonly dir: string;
  constructor(stateDir: string) {
    this.dir = join(stateDir, 'instances');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(id: string): string {
    return join(this.dir, `${encodeURIComponent(id)}.json`);
  }

  save(rec: InstanceRecord): void {
    const target = this.file(rec.instanceId);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec));
    renameSync(tmp, target);
  }

  remove(id: string): void {
    rmSync(this.file(id), { force: true });
  }

  loadAll(): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      out.push(JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as InstanceRecord);
    }
    return out;
  }
}
