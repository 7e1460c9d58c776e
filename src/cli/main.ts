import { readFile } from 'node:fs/promises';
import { InvalidRequestError } from '../link/errors.js';
import { createLink } from '../runbook/operations/create-link.js';
import { buildPlan, planToJson, renderScript } from '../runbook/plan.js';
import { parseLinkRequest } from '../link/request.js';

const usage = `milink — automation for the Azure SQL Managed Instance link

Usage:
  milink plan <request.json> [--json]   print the reviewable script (or the JSON plan) for a link request
  milink help                           this text
`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  now(): Date;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  now: () => new Date(),
};

async function readRequest(file: string, io: CliIo): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    io.err(`milink: cannot read ${file}: ${(e as Error).message}`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    io.err(`milink: ${file} is not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
}

async function plan(args: string[], io: CliIo): Promise<number> {
  const json = args.includes('--json');
  const files = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--json');
  if (files.length !== 1 || unknown.length > 0) {
    io.err(
      `milink plan: expected one request file${unknown.length ? ` (unknown option ${unknown.join(', ')})` : ''}\n\n${usage}`,
    );
    return 2;
  }
  const input = await readRequest(files[0]!, io);
  if (input === undefined) return 2;
  try {
    const request = parseLinkRequest(input, io.now());
    const p = buildPlan(createLink, request);
    io.out(json ? JSON.stringify(planToJson(p), null, 2) : renderScript(p));
    return 0;
  } catch (e) {
    if (e instanceof InvalidRequestError) {
      io.err(JSON.stringify(e.toBody(), null, 2));
      return 1;
    }
    throw e;
  }
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'plan':
      return plan(rest, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(usage);
      return command === undefined ? 2 : 0;
    default:
      io.err(`milink: unknown command ${command}\n\n${usage}`);
      return 2;
  }
}
