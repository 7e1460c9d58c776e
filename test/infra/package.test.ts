/**
 * The deployment package, built the way `azd deploy` builds it for this app (azure.yaml: host function,
 * language ts, remoteBuild false): in the project folder after its restore (`npm install`: node_modules
 * with dev dependencies), azd runs `npm run build`, then zips the folder minus what `.funcignore` excludes
 * (gitignore rules), minus `.azure/`, `local.settings.json` and `.funcignore` itself, following symbolic
 * links. Here the project folder is a copy of the checkout's files (tracked and untracked, not the ignored
 * ones) with the real node_modules linked in; the package is copied into an empty folder and its entry
 * loaded there with Node and nothing else: every function the app registers must be registered.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApp } from '../../local/host/capture.js';
import { repoRoot } from '../helpers/runbook.js';

/** Flex Consumption unpacks the package for every new instance: it must stay small (issue 11). */
const MAX_BYTES = 60 * 1024 * 1024;
const MAX_FILES = 100;

interface PackagedFile {
  rel: string;
  path: string;
  bytes: number;
}

interface Binding {
  type: string;
  direction: string;
  [key: string]: unknown;
}

interface LoadReport {
  node: string;
  registered: { name: string; bindings: Record<string, Binding> }[];
  outside: string[];
}

let work: string;
let project: string;
let rules: Ignore;
let files: PackagedFile[];
let bytes: number;

/** The checkout's files as a fresh clone plus the user's own untracked ones would have them. */
function copyCheckout(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const rel of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(repoRoot, rel);
    if (!existsSync(from) || !lstatSync(from).isFile()) continue; // deleted in the work tree
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(from, join(to, rel));
  }
}

/** azd's walk (pkg/rzip with the exclusions of createDeployableZip): every file it would zip. */
function packageFiles(dir: string, rel = ''): PackagedFile[] {
  const out: PackagedFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const stat = statSync(path); // a symbolic link counts as what it points at
    const isDir = stat.isDirectory();
    if (isDir && name === '.azure') continue;
    if (!isDir && (name === '.funcignore' || name === 'local.settings.json')) continue;
    if (rules.ignores(isDir ? `${r}/` : r)) continue;
    if (isDir) out.push(...packageFiles(path, r));
    else out.push({ rel: r, path, bytes: stat.size });
  }
  return out;
}

const mainOf = (dir: string): string =>
  (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string }).main.replace(/^\.\//, '');

/**
 * Runs in the unpacked package: stands in for the Functions worker, which provides
 * `@azure/functions-core` to `require` and imports package.json's `main`; records each registration and
 * every module resolved outside the package folder.
 */
const harness = `
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const dir = process.cwd();
const registered = [];
const outside = [];
const core = {
  version: '4.x', hostVersion: '4.x',
  setProgrammingModel() {}, getProgrammingModel() { return undefined; },
  registerHook() { return { dispose() {} }; }, log() {},
  registerFunction(metadata) { registered.push({ name: metadata.name, bindings: metadata.bindings }); return { dispose() {} }; },
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === '@azure/functions-core') return core;
  return load.call(this, request, parent, isMain);
};
Module.registerHooks({
  resolve(specifier, context, next) {
    const found = next(specifier, context);
    if (found.url.startsWith('file:') && !fileURLToPath(found.url).startsWith(dir + sep)) outside.push(found.url);
    return found;
  },
});
const { main } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
await import(pathToFileURL(resolve(dir, main)).href);
process.stdout.write(JSON.stringify({ node: process.versions.node, registered, outside }));
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'milink-package-'));
  project = join(work, 'project');
  copyCheckout(project);
  // azd zips what a link points at; a junction needs no privilege on Windows (elsewhere the type is ignored)
  symlinkSync(join(repoRoot, 'node_modules'), join(project, 'node_modules'), 'junction');
  const built = spawnSync('npm', ['run', 'build'], {
    cwd: project,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`);
  rules = ignore().add(readFileSync(join(project, '.funcignore'), 'utf8'));
  files = packageFiles(project);
  bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  console.log(`deployment package: ${files.length} files, ${(bytes / 1048576).toFixed(1)} MB unpacked`);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the package azd deploys', () => {
  it('holds host.json, package.json and the entry its main names, within bounds', () => {
    const names = files.map((f) => f.rel);
    expect(names).toContain('host.json');
    expect(names).toContain('package.json');
    expect(names, 'package.json main').toContain(mainOf(project));
    expect(bytes, 'bytes unpacked').toBeLessThanOrEqual(MAX_BYTES);
    expect(files.length, 'files').toBeLessThanOrEqual(MAX_FILES);
    // only what the host reads and the build's output: sources, tests, tools and dependencies stay out
    expect(names.filter((n) => !['host.json', 'package.json'].includes(n) && !n.startsWith('dist/'))).toEqual(
      [],
    );
  });

  it('states the build mode azd checks against .funcignore: local build, node_modules itself not excluded', () => {
    const yaml = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^\s+remoteBuild: false$/m);
    // azd refuses `remoteBuild: false` when .funcignore excludes the node_modules folder
    expect(rules.ignores('node_modules/')).toBe(false);
  });

  it('.funcignore has no pattern azd reads differently from git', () => {
    // go-gitignore (azd's reader) matches an anchored pattern without an inner slash, such as `/*` or
    // `/*.md`, against the whole relative path, so its wildcard crosses folders; git's does not.
    const patterns = readFileSync(join(repoRoot, '.funcignore'), 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const misread = patterns.filter((p) => {
      const body = p.replace(/^!/, '');
      const inner = body.replace(/^\//, '').replace(/\/$/, '');
      return body.startsWith('/') && !inner.includes('/') && /[*?[]/.test(inner);
    });
    expect(misread).toEqual([]);
  });

  it('loaded alone in an empty folder with Node, registers every function the app registers', async () => {
    expect(bytes, 'a package over the bound is not unpacked').toBeLessThanOrEqual(MAX_BYTES);
    const unpacked = join(work, 'package');
    for (const f of files) {
      mkdirSync(dirname(join(unpacked, f.rel)), { recursive: true });
      copyFileSync(f.path, join(unpacked, f.rel));
    }
    // nothing above the empty folder may supply a module
    for (let d = dirname(unpacked); d !== parse(d).root; d = dirname(d))
      expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
    writeFileSync(join(work, 'harness.mjs'), harness);
    const run = spawnSync(process.execPath, [join(work, 'harness.mjs')], {
      cwd: unpacked,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' }, // no app settings: registration must not need them
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as LoadReport;

    const bicep = readFileSync(join(repoRoot, 'infra', 'app.bicep'), 'utf8');
    const runtime = /name: 'node'\s+version: '(\d+)'/.exec(bicep)?.[1];
    expect(report.node.split('.')[0], 'the Function App runtime version (infra/app.bicep)').toBe(runtime);
    expect(report.outside).toEqual([]);

    const triggerOf = (bindings: Binding[]) =>
      bindings.find((b) => b.direction === 'in' && b.type.endsWith('Trigger'));
    const expected = (await loadApp(join(repoRoot, 'src', 'index.ts')))
      .map((r) => ({ name: r.name, trigger: r.trigger }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const packaged = report.registered
      .map((r) => ({ name: r.name, trigger: triggerOf(Object.values(r.bindings)) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(expected.length).toBeGreaterThan(0);
    expect(packaged).toEqual(expected);
  }, 90_000);
});
