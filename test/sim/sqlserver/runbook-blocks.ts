/**
 * Extracts the T-SQL blocks of the reference runbook (a flattened web page in which every code block
 * appears twice in a row): a block is a run of lines immediately repeated; T-SQL blocks are told from
 * PowerShell ones by their first code line.
 */
import { ROOT_CERTIFICATES } from '../../../src/sql/roots.js';
import { importRootCertificate } from '../../../src/sql/statements.js';
import { hasReference, runbookText } from '../../helpers/runbook.js';

const TSQL_START = /^(--|USE\b|SELECT\b|CREATE\b|ALTER\b|DROP\b|DECLARE\b|EXEC\b|BACKUP\b|IF\b)/i;

/** Every block that appears twice in a row, in file order (each once). */
export function duplicatedBlocks(text: string): string[][] {
  const lines = text.split(/\r?\n/);
  const blocks: string[][] = [];
  let i = 0;
  while (i < lines.length) {
    let found = 0;
    // the longest run starting at i that is immediately repeated
    for (let len = Math.floor((lines.length - i) / 2); len >= 1; len--) {
      let same = true;
      for (let k = 0; k < len; k++) {
        if (lines[i + k] !== lines[i + len + k]) {
          same = false;
          break;
        }
      }
      if (same) {
        found = len;
        break;
      }
    }
    if (found > 0) {
      blocks.push(lines.slice(i, i + found));
      i += 2 * found;
    } else i += 1;
  }
  return blocks;
}

/** The T-SQL blocks (code that runs on SQL Server or the instance), in file order. */
export function tsqlBlocks(text: string = runbookText()): string[] {
  return duplicatedBlocks(text)
    .filter((b) => {
      const first = b.find((l) => l.trim() !== '');
      return first !== undefined && TSQL_START.test(first.trim()) && b.some((l) => /[A-Za-z]{3,}/.test(l));
    })
    .map((b) => b.join('\n'));
}

/** Splits a script at GO lines, as SSMS and sqlcmd do (the client's job, not the server's). */
export function splitGo(script: string): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  for (const line of script.split('\n')) {
    if (/^\s*GO\s*$/i.test(line)) {
      out.push(cur.join('\n'));
      cur = [];
    } else cur.push(line);
  }
  out.push(cur.join('\n'));
  return out.filter(
    (b) => b.trim() !== '' && b.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('--')),
  );
}

/** Replaces <Placeholder> tokens; throws when one is left unfilled. */
export function fill(block: string, values: Record<string, string>): string {
  const out = block.replace(/<([A-Za-z_]+)>/g, (m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for placeholder ${m}`);
    return v;
  });
  return out;
}

/**
 * The runbook's block that imports an Azure root certificate and registers it as issuer; without the
 * reference runbook (a clone alone), milink's rendering of the same block, which
 * test/unit/runbook-equivalence.test.ts holds equal to the runbook's wherever the runbook is present.
 */
export function rootCertificateBlock(name: 'MicrosoftPKI' | 'DigiCertPKI'): string {
  if (hasReference) return tsqlBlocks().find((b) => b.includes(`N'${name}'`))!;
  return importRootCertificate(ROOT_CERTIFICATES.find((r) => r.name === name)!);
}
