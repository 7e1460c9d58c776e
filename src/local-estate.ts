import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The simulated estate's connection file, for running milink on one machine without Azure. Production
 * settings never name it; when MILINK_LOCAL_CONNECTION_FILE is set, milink's clients take their addresses,
 * the CA certificate to trust and a bearer token from it, and reach each SQL Server host through the
 * local port the file maps it to.
 */
const connectionSchema = z.object({
  arm: z.object({ endpoint: z.url(), token: z.string().min(1) }),
  keyVault: z.object({ url: z.url(), token: z.string().min(1) }),
  caCertPem: z.string().min(1),
  sqlServers: z.array(
    z.object({
      serverName: z.string(),
      host: z.string(),
      endpointAddress: z.string(),
      address: z.string(),
      port: z.number().int(),
    }),
  ),
});

export type LocalEstate = z.infer<typeof connectionSchema>;

const cache = new Map<string, LocalEstate>();

export function readLocalEstate(file: string): LocalEstate {
  const known = cache.get(file);
  if (known) return known;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the local estate connection file ${file}: ${(e as Error).message}`);
  }
  const parsed = connectionSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`the local estate connection file ${file} is not valid: ${parsed.error.message}`);
  cache.set(file, parsed.data);
  return parsed.data;
}

/** Where to reach a SQL Server named in a request (host and port as the request gives them). */
export function resolveSqlServer(
  estate: LocalEstate | undefined,
  host: string,
  port: number,
): { server: string; port: number } {
  if (!estate) return { server: host, port };
  const entry = estate.sqlServers.find((s) => s.host.toLowerCase() === host.toLowerCase());
  return entry ? { server: entry.address, port: entry.port } : { server: host, port };
}
