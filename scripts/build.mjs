// `pnpm build`: each service bundled into one ES module (services/<name>/dist/), so production runs
// plain JavaScript: no TypeScript loader in the process (less memory, faster start). npm packages
// stay external and load from the service's own node_modules; the workspace's code is inlined.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';

const external = {
  name: 'npm-packages-external',
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@ticketing/') ? undefined : { path: args.path, external: true },
    );
  },
};

const services = [
  { entry: 'services/api/src/server.ts', out: 'services/api/dist/server.js' },
  { entry: 'services/worker/src/main.ts', out: 'services/worker/dist/main.js' },
];

for (const { out } of services) rmSync(dirname(out), { recursive: true, force: true });
await Promise.all(
  services.map(({ entry, out }) =>
    build({
      entryPoints: [entry],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      // Test-only switches (packages/shared/src/unsafe-switches.ts) are read under NODE_ENV=test only.
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [external],
      logLevel: 'warning',
    }),
  ),
);
// Files the api reads next to its code at start-up (the monitor page).
mkdirSync('services/api/dist', { recursive: true });
for (const file of ['monitor.html', 'monitor.js'])
  cpSync(`services/api/src/admin/${file}`, `services/api/dist/${file}`);
console.log(`built ${services.map(({ out }) => out).join(', ')}`);
