import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_NAMES, CONFIG_SETTINGS, loadConfig } from '../src/config.js';
import {
  CONFIG_TABLE_END,
  CONFIG_TABLE_START,
  renderConfigTable,
  replaceConfigTable,
} from '../src/config-table.js';

const OPERATIONS = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));

describe('configuration table', () => {
  it('when rendered, then it has one row per setting with its name, default and description', () => {
    const lines = renderConfigTable().split('\n');
    expect(lines).toHaveLength(2 + CONFIG_SETTINGS.length);
    expect(lines.slice(2).map((line) => /^\| `(\w+)` \|/.exec(line)?.[1])).toEqual(CONFIG_ENV_NAMES);
    expect(lines).toContain(`| \`PORT\` | \`${loadConfig({}).port}\` | api port |`);
    expect(lines.find((line) => line.startsWith('| `ADMIN_TOKEN` | unset |'))).toBeDefined();
    for (const setting of CONFIG_SETTINGS) expect(setting.description, setting.env).not.toMatch(/^\s*$|\n/);
  });

  it('when a description holds a pipe, then it stays inside its cell', () => {
    const table = renderConfigTable([{ env: 'X', fallback: 'a', description: 'one | two' }]);
    expect(table.split('\n')[2]).toBe('| `X` | `a` | one \\| two |');
  });

  it('when the markers are missing, then the replacement refuses rather than appending', () => {
    expect(() => replaceConfigTable('# Operations\n', 'table')).toThrow(/markers/);
    expect(replaceConfigTable(`a\n${CONFIG_TABLE_START}\nold\n${CONFIG_TABLE_END}\nb`, 'new')).toBe(
      `a\n${CONFIG_TABLE_START}\n\nnew\n\n${CONFIG_TABLE_END}\nb`,
    );
  });

  it('when the settings change, then docs/operations.md must be regenerated (pnpm docs:config)', async () => {
    const current = readFileSync(OPERATIONS, 'utf8');
    const regenerated = await format(replaceConfigTable(current, renderConfigTable()), {
      ...(await resolveConfig(OPERATIONS)),
      filepath: OPERATIONS,
    });
    await expect(regenerated).toMatchFileSnapshot(OPERATIONS);
  });
});
