import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The reference runbook (../shared/runbook/000_…txt) as text. */
export function runbookText(): string {
  const dir = resolve(repoRoot, '../shared/runbook');
  const file = readdirSync(dir).find((f) => f.startsWith('000_') && f.endsWith('.txt'));
  if (!file) throw new Error(`no 000_….txt in ${dir}`);
  return readFileSync(join(dir, file), 'utf8');
}

/**
 * The runbook text from the first occurrence of `start` (at or after `after`, when given) up to, not
 * including, the first `end` after it.
 */
export function runbookSlice(text: string, start: string, end: string, after?: string): string {
  const from = after ? text.indexOf(after) : 0;
  if (from < 0) throw new Error(`runbook has no ${JSON.stringify(after)}`);
  const at = text.indexOf(start, from);
  if (at < 0) throw new Error(`runbook has no ${JSON.stringify(start)}`);
  const stop = text.indexOf(end, at + start.length);
  if (stop < 0) throw new Error(`runbook has no ${JSON.stringify(end)} after ${JSON.stringify(start)}`);
  return text.slice(at, stop);
}

/** Replaces the runbook's <Placeholders>. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/<([A-Za-z_]+)>/g, (whole, name: string) => values[name] ?? whole);
}
