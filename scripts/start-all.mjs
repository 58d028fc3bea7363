// `pnpm start` (after `pnpm build`): the api and one worker in the foreground. Ctrl-C or SIGTERM
// stops both cleanly; if either dies, the other is stopped too, so a half-running system never looks
// healthy.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Read, not imported: Node 20 warns that JSON modules are experimental.
const NODE_FLAGS = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve('./node-flags.json')), 'utf8'));

// The bundles `pnpm build` writes, with each service's V8 memory flags (see node-flags.json).
const services = [
  ['api', 'services/api/dist/server.js'],
  ['worker', 'services/worker/dist/main.js'],
];

const children = services.map(([name, entry]) => {
  const child = spawn(process.execPath, [...NODE_FLAGS[name], entry], { stdio: 'inherit' });
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
