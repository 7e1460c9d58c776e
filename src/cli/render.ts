/**
 * How the CLI (and `milink local`) shows an operation: its steps as they change, a wait's progress, the outcome, a
 * status at a glance, and a list of operations. Input is what the HTTP API answers (GET /api/links[/{id}]).
 */

export type StatusAnswer = Record<string, any>;

interface Step {
  id: string;
  title: string;
  state: string;
}

const TERMINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function isTerminal(status: StatusAnswer): boolean {
  return TERMINAL.includes(String(status.runtimeStatus));
}

function mark(state: string): string {
  return state === 'done' ? '✔' : state === 'failed' ? '✖' : state === 'skipped' ? '-' : '…';
}

/** A wait's progress in one line (createLink: what the link shows while it is created, seeds and catches up). */
export function progressLine(progress: Record<string, unknown> | undefined): string | undefined {
  if (!progress || Object.keys(progress).length === 0) return undefined;
  const p = progress;
  if ('replicaState' in p || 'sqlServerConnectedState' in p)
    return p.replicaState
      ? `replica ${String(p.replicaState)}${p.seedingProgress ? ` ${String(p.seedingProgress)}` : ''}, ${String(p.connectedState ?? '?')}, ${String(p.synchronizationHealth ?? '?')}; SQL Server sees ${String(p.sqlServerConnectedState ?? '?')}`
      : `the instance is creating the link; SQL Server sees it ${String(p.sqlServerConnectedState ?? 'not yet')}`;
  return Object.entries(p)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/**
 * Live progress: each call with the latest status gives the lines to print since the last call — a step when its
 * state changes (pending steps are not shown), and the wait's progress when it changes.
 */
export function progressView(): (status: StatusAnswer) => string[] {
  const shown = new Map<string, string>();
  let lastProgress = '';
  return (status) => {
    const lines: string[] = [];
    for (const step of (status.steps ?? []) as Step[]) {
      if (shown.get(step.id) === step.state || step.state === 'pending') continue;
      shown.set(step.id, step.state);
      lines.push(`  ${mark(step.state)} ${step.id.padEnd(32)} ${step.title}`);
    }
    const text = progressLine(status.progress);
    if (text && text !== lastProgress) lines.push(`      link: ${text}`);
    if (text) lastProgress = text;
    return lines;
  };
}

/** How an operation ended: a headline and what follows it. */
export function outcomeLines(status: StatusAnswer): { ok: boolean; headline: string; details: string[] } {
  const details: string[] = [];
  if (status.runtimeStatus !== 'Completed') {
    const what =
      status.operation === 'createLink' || status.name === 'createLink'
        ? 'the link was not created'
        : `${status.operation ?? status.name} did not finish`;
    if (status.error)
      details.push(
        `  failed at ${status.error.step} on ${status.error.target}: ${status.error.code}: ${status.error.message}`,
        `  what to do: ${status.error.advice}`,
      );
    for (const f of (status.failures ?? []) as Array<{ check: string; message: string; advice: string }>)
      details.push(`  preflight ${f.check}: ${f.message} (${f.advice})`);
    if (status.runtimeStatus === 'Terminated' && typeof status.output === 'string')
      details.push(`  ${status.output}`);
    return { ok: false, headline: `${what} (${status.runtimeStatus})`, details };
  }
  const out = status.output ?? {};
  const h = out.health;
  if (h && typeof h === 'object') {
    details.push(
      `  replica state ${h.replicaState}, ${h.connectedState}, ${h.synchronizationHealth}; SQL Server sees the instance ${h.sqlServerConnectedState}`,
    );
    if (h.sendLagSeconds !== undefined)
      details.push(`  lag: send ${h.sendLagSeconds} s, redo ${h.redoLagSeconds} s`);
    if (h.certificateExpiry) details.push(`  SQL Server certificate valid until ${h.certificateExpiry}`);
  }
  for (const w of (status.warnings ?? []) as Array<{ message: string; advice: string }>)
    details.push(`  warning: ${w.message} (${w.advice})`);
  const headline =
    out.operation === 'createLink' || (out.operation === undefined && h)
      ? `link ${out.link} (${out.database} -> ${out.managedInstance}) is healthy`
      : `${out.operation ?? status.name} on link ${out.link ?? status.link} succeeded`;
  return { ok: true, headline, details };
}

/** One operation at a glance (`milink status`). */
export function statusLines(status: StatusAnswer): string[] {
  const lines = [
    `${status.operation ?? status.name} ${status.instanceId}: ${status.runtimeStatus}${status.phase ? ` (${status.phase})` : ''}${status.current ? `, at ${status.current}` : ''}`,
  ];
  const about = [
    status.link ? `link ${status.link}` : undefined,
    status.database ? `database ${status.database}` : undefined,
    status.managedInstance ? `managed instance ${status.managedInstance}` : undefined,
    status.ticketId ? `ticket ${status.ticketId}` : undefined,
  ].filter(Boolean);
  if (about.length > 0) lines.push(`  ${about.join(', ')}`);
  if (status.handedOverFrom) lines.push(`  asked as ${status.handedOverFrom}; the run went on under this id`);
  lines.push(`  started ${status.createdTime}, last change ${status.lastUpdatedTime}`);
  for (const step of (status.steps ?? []) as Step[])
    lines.push(`  ${step.state === 'pending' ? ' ' : mark(step.state)} ${step.id.padEnd(32)} ${step.title}`);
  const progress = progressLine(status.progress);
  if (progress) lines.push(`      link: ${progress}`);
  if (isTerminal(status)) {
    const o = outcomeLines(status);
    lines.push(o.headline, ...o.details);
  }
  return lines;
}

/** Operations as a table (`milink list`). */
export function listLines(operations: StatusAnswer[]): string[] {
  if (operations.length === 0) return ['no operations'];
  const columns: Array<[string, (s: StatusAnswer) => string]> = [
    ['ID', (s) => s.instanceId],
    ['OPERATION', (s) => s.operation ?? s.name],
    ['STATE', (s) => s.runtimeStatus],
    ['PHASE', (s) => s.phase ?? ''],
    ['AT', (s) => s.current ?? s.error?.step ?? ''],
    ['LINK', (s) => s.link ?? ''],
    ['MANAGED INSTANCE', (s) => s.managedInstance ?? ''],
    ['DATABASE', (s) => s.database ?? ''],
    ['TICKET', (s) => s.ticketId ?? ''],
    ['CREATED', (s) => String(s.createdTime ?? '').replace(/\.\d+Z$/, 'Z')],
  ];
  const rows = operations.map((s) => columns.map(([, get]) => String(get(s) ?? '')));
  const widths = columns.map(([name], i) => Math.max(name.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [format(columns.map(([name]) => name)), ...rows.map(format)];
}
