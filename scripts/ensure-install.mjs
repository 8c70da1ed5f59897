// Runs before `npm test`, `npm run demo` and `npm run bench`: on a fresh clone the
// dependencies are not there yet, so install them exactly as locked.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker)) {
  process.stderr.write('ccdrift: installing dependencies (first run)…\n');
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
