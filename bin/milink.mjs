#!/usr/bin/env node
// The milink command. Runs the TypeScript sources through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `milink needs Node.js 22 or newer (this is ${process.version}); run it through npx or npm run.`,
  );
  process.exit(1);
}
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
