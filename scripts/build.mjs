// Builds the scanner and agent (dist/), then the hub workspace and its web console where their dependencies are installed: an
// install without workspaces (`npm ci --workspaces=false`, the agent-only install) builds the scanner alone.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const tsc = (project) =>
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project], { stdio: 'inherit' });
tsc('tsconfig.build.json');
if (existsSync('node_modules/@chainsweep/hub') && existsSync('node_modules/hono')) {
  tsc('packages/hub/tsconfig.build.json');
  // The web console, bundled by esbuild (a development dependency of the hub).
  if (existsSync('node_modules/preact'))
    execFileSync(process.execPath, ['packages/hub/web/build.mjs'], { stdio: 'inherit' });
}
