#!/usr/bin/env node
/**
 * Completes package-lock.json with the optional, platform-specific packages the registry this project's
 * machines reach does not serve (it answers 404 for other platforms' binaries, e.g. rollup's android/darwin/
 * win32 builds). npm then writes no lock entry for them, and `npm ci` refuses the lock as out of sync. Each
 * added entry is optional and carries its os/cpu (and libc), so npm ci skips it on every other platform and
 * never fetches it. Run after any `npm install` that rewrites the lock: `node scripts/complete-lockfile.mjs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

/** os, cpu and libc from a platform package's name suffix (e.g. linux-arm64-musl, win32-x64-msvc). */
function platformOf(name) {
  const suffix = name
    .split('/')
    .pop()
    .replace(/^(rollup|binding|esbuild)-/, '');
  const parts = suffix.split('-');
  const os = parts[0];
  const cpu = { 'arm-eabi': 'arm', arm: 'arm' }[parts.slice(1, 3).join('-')] ?? parts[1];
  const meta = { os: [os], cpu: [cpu] };
  if (os === 'linux') meta.libc = [suffix.includes('musl') ? 'musl' : 'glibc'];
  return meta;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const where = `${path ? `${path}/` : ''}node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[where] || packages[hoisted]) continue;
    if (!/-(android|darwin|freebsd|linux|openbsd|openharmony|win32|sunos|aix|netbsd)-/.test(dep)) continue;
    packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platformOf(dep) };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
