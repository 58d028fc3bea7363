// `pnpm start` (after `pnpm build`): the api and one worker in the foreground. Ctrl-C or SIGTERM
// stops both cleanly; if either dies, the other is stopped too, so a half-running system never looks
// healthy.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The bundles `pnpm build` writes, each with its V8 memory flags. Read, not imported: Node 20 warns
// that JSON modules are experimental.
const services = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('./services.json')), 'utf8'));

const children = Object.entries(services).map(([name, { bundle, nodeFlags }]) => {
  const child = spawn(process.execPath, [...nodeFlags, bundle], { stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the rest`);
      stop(code === 0 ? 1 : (code ?? 1));
    }
  });
  return child;
});

let stopping = false;
let exitCode = 0;
function stop(code) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

await Promise.all(
  children.map(
    (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve))),
  ),
);
process.exit(exitCode);
