/**
 * Nightly health reports in Blob Storage (@azure/storage-blob): one JSON blob per night,
 * `reports/YYYY-MM-DD.json`; the latest is the greatest name. Read back through the report's schema.
 */
import {
  RestError,
  type ContainerClient,
  BlobServiceClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { parseHealthReport, type HealthReport } from './report.js';

export const DEFAULT_REPORT_CONTAINER = 'milink-health';
const PREFIX = 'reports/';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function reportBlobName(date: string): string {
  const parsed = DATE.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== date)
    throw new RangeError(`a report date is written YYYY-MM-DD, not ${JSON.stringify(date)}`);
  return `${PREFIX}${date}.json`;
}

export class ReportStore {
  private ready: Promise<unknown> | null = null;

  /** From an injected ContainerClient (credential, endpoint and retries are the caller's). */
  constructor(readonly container: ContainerClient) {}

  static fromConnectionString(
    connectionString: string,
    containerName = DEFAULT_REPORT_CONTAINER,
    options?: StoragePipelineOptions,
  ): ReportStore {
    return new ReportStore(
      BlobServiceClient.fromConnectionString(connectionString, options).getContainerClient(containerName),
    );
  }

  /** Creates the (private) container once per store. */
  ensureContainer(): Promise<unknown> {
    this.ready ??= this.container.createIfNotExists().catch((e: unknown) => {
      this.ready = null;
      throw e;
    });
    return this.ready;
  }

  /** Stores a night's report (replacing an earlier run of the same night); returns the blob's name. */
  async save(report: HealthReport): Promise<string> {
    const valid = parseHealthReport(report);
    await this.ensureContainer();
    const name = reportBlobName(valid.date);
    const body = JSON.stringify(valid);
    await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
      metadata: { schemaversion: String(valid.schemaVersion) },
    });
    return name;
  }

  /** The report of one night, or null when that night has none. */
  async byDate(date: string): Promise<HealthReport | null> {
    const name = reportBlobName(date);
    await this.ensureContainer();
    try {
      const buffer = await this.container.getBlockBlobClient(name).downloadToBuffer();
      return parseHealthReport(JSON.parse(buffer.toString('utf8')));
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return null;
      throw e;
    }
  }

  /** The nights that have a report, oldest first. */
  async dates(): Promise<string[]> {
    await this.ensureContainer();
    const out: string[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix: PREFIX })) {
      const m = /^reports\/(\d{4}-\d{2}-\d{2})\.json$/.exec(b.name);
      if (m) out.push(m[1]!);
    }
    return out.sort();
  }

  /** The newest report, or null before the first night. */
  async latest(): Promise<HealthReport | null> {
    const dates = await this.dates();
    const last = dates.at(-1);
    return last ? this.byDate(last) : null;
  }

  /** The newest `count` reports (for the dashboard's trends), oldest first; optionally only before a night. */
  async recent(count: number, before?: string): Promise<HealthReport[]> {
    const dates = (await this.dates()).filter((d) => before === undefined || d < before).slice(-count);
    const reports = await Promise.all(dates.map((d) => this.byDate(d)));
    return reports.filter((r): r is HealthReport => r !== null);
  }

  // ---- what one sweep read, kept here between its reads and its report (so the orchestration's history holds
  // names, not observations); removed once the report is stored

  /** Stores one read of a sweep (`run` and `slot` made of letters, digits, `.`, `_`, `-`); returns its blob. */
  async stage(run: string, slot: string, value: unknown): Promise<string> {
    const name = stagedBlobName(run, slot);
    await this.ensureContainer();
    const body = JSON.stringify(value);
    await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
    });
    return name;
  }

  /** A read a sweep stored (the blob `stage` returned). */
  async staged(blob: string): Promise<unknown> {
    if (!blob.startsWith(SWEEPS)) throw new RangeError(`not a sweep's read: ${blob}`);
    const buffer = await this.container.getBlockBlobClient(blob).downloadToBuffer();
    return JSON.parse(buffer.toString('utf8'));
  }

  /** Removes every read of one sweep; returns how many. */
  async unstage(run: string): Promise<number> {
    const prefix = `${SWEEPS}${checkedPart(run)}/`;
    const names: string[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix })) names.push(b.name);
    for (let i = 0; i < names.length; i += 16)
      await Promise.all(
        names.slice(i, i + 16).map((n) => this.container.getBlockBlobClient(n).deleteIfExists()),
      );
    return names.length;
  }
}

const SWEEPS = 'sweeps/';

function checkedPart(part: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(part) || part.startsWith('.'))
    throw new RangeError(
      `a sweep's run and slot are letters, digits, '.', '_' and '-': ${JSON.stringify(part)}`,
    );
  return part;
}

export function stagedBlobName(run: string, slot: string): string {
  return `${SWEEPS}${checkedPart(run)}/${checkedPart(slot)}.json`;
}
