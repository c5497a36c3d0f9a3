// npm run check's typecheck: the shared code, scripts and tests, then each version on its
// own. Versions are independent snapshots; checked together, one version's declarations
// (the session's fields, say) would clash with another's.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { listVersions, repoRoot } from './versions.mjs';

const projects = ['.', ...listVersions().map((version) => path.join('versions', version))];
let failed = false;
for (const project of projects) {
  const result = spawnSync(process.execPath, [tscPath(), '--noEmit', '-p', project], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (result.status !== 0) failed = true;
  console.log(`${result.status === 0 ? 'ok  ' : 'FAIL'} tsc -p ${project}`);
}
process.exit(failed ? 1 : 0);

function tscPath(): string {
  return path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
}
