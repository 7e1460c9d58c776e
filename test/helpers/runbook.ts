import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The reference material some tests compare milink with lives outside the repository, in the folder
 * beside it (`../shared`: the runbook in `runbook/`, ARM's examples in `reference/arm-examples/`);
 * MILINK_REFERENCE_DIR names another folder. A clone alone has no such folder: those tests are skipped,
 * with one notice per test run. CI sets MILINK_REQUIRE_REFERENCE=1, which makes a missing folder fail
 * every test that needs it.
 */
export const referenceDir = resolve(process.env.MILINK_REFERENCE_DIR ?? join(repoRoot, '../shared'));
export const runbookDir = join(referenceDir, 'runbook');
export const armExamplesDir = join(referenceDir, 'reference', 'arm-examples');
const referenceRequired = process.env.MILINK_REQUIRE_REFERENCE === '1';

function runbookFile(): string | undefined {
  if (!existsSync(runbookDir)) return undefined;
  return readdirSync(runbookDir).find((f) => f.startsWith('000_') && f.endsWith('.txt'));
}

/** Whether the reference runbook and ARM examples are there. */
export const hasReference = runbookFile() !== undefined && existsSync(armExamplesDir);

const absence = `the reference folder ${referenceDir} (runbook/000_….txt, reference/arm-examples/) is absent`;

/** Prints the absence once per test run: test files run in workers of one vitest process. */
function noticeAbsence(): void {
  const marker = join(tmpdir(), `milink-reference-notice-${process.ppid}`);
  try {
    closeSync(openSync(marker, 'wx'));
  } catch {
    return;
  }
  console.warn(
    `milink tests: ${absence}; the tests that compare milink with it are skipped ` +
      '(set MILINK_REFERENCE_DIR to its place, or MILINK_REQUIRE_REFERENCE=1 to fail instead).',
  );
}

/**
 * A suite that needs the reference: runs when it is there; otherwise skipped (its body is not even
 * collected, as it may read the reference while declaring its tests), or failed under
 * MILINK_REQUIRE_REFERENCE=1.
 */
export function describeWithReference(name: string, body: () => void): void {
  if (hasReference) describe(name, body);
  else if (referenceRequired) {
    describe(name, () => {
      it('needs the reference folder (MILINK_REQUIRE_REFERENCE=1)', () => {
        throw new Error(`${absence}: this suite compares milink with it`);
      });
    });
  } else {
    noticeAbsence();
    describe.skip(name, () => {
      it.skip(`needs ${referenceDir}`, () => {});
    });
  }
}

/** One test that needs the reference, inside a suite that does not (same rules as describeWithReference). */
export function itWithReference(name: string, body: () => Promise<void> | void, timeout?: number): void {
  if (hasReference) it(name, body, timeout);
  else if (referenceRequired) {
    it(name, () => {
      throw new Error(`${absence}: this test compares milink with it (MILINK_REQUIRE_REFERENCE=1)`);
    });
  } else {
    noticeAbsence();
    it.skip(name, body);
  }
}

/** The reference runbook (runbook/000_…txt in the reference folder) as text. */
export function runbookText(): string {
  const file = runbookFile();
  if (!file) throw new Error(`no 000_….txt in ${runbookDir}: ${absence}`);
  return readFileSync(join(runbookDir, file), 'utf8');
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
