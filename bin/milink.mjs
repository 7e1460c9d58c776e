#!/usr/bin/env node
// The milink command. Runs the TypeScript sources through tsx so no build step is needed.
// `milink local` runs the main job on the embedded local estate (local/, never part of the deployed app).
import { register } from 'tsx/esm/api';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `milink needs Node.js 22 or newer (this is ${process.version}); run it through npx or npm run.`,
  );
  process.exit(1);
}
register();
const args = process.argv.slice(2);
if (args[0] === 'local') {
  const { runLocal } = await import('../local/main.ts');
  // Exit at once: idle SQL connection pools would otherwise keep the process alive for their idle timeout.
  process.exit(await runLocal(args.slice(1)));
} else {
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(args);
}
