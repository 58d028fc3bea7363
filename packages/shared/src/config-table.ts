import { CONFIG_SETTINGS } from './config.js';

/** The comments around the generated table in docs/operations.md; everything between them is rewritten. */
export const CONFIG_TABLE_START =
  '<!-- config table: generated from packages/shared/src/config.ts by pnpm docs:config -->';
export const CONFIG_TABLE_END = '<!-- end of config table -->';

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The settings as a Markdown table (unpadded: prettier aligns it), in declaration order. */
export function renderConfigTable(settings: typeof CONFIG_SETTINGS = CONFIG_SETTINGS): string {
  const rows = settings.map(({ env, fallback, description }) =>
    [`\`${env}\``, fallback === undefined ? 'unset' : `\`${fallback}\``, cell(description)].join(' | '),
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows.map((row) => `| ${row} |`)].join(
    '\n',
  );
}

/** `markdown` with the text between the table's marker comments replaced by `table`. */
export function replaceConfigTable(markdown: string, table: string): string {
  const start = markdown.indexOf(CONFIG_TABLE_START);
  const end = markdown.indexOf(CONFIG_TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`the config table's markers are missing: ${CONFIG_TABLE_START} … ${CONFIG_TABLE_END}`);
  }
  return `${markdown.slice(0, start + CONFIG_TABLE_START.length)}\n\n${table}\n\n${markdown.slice(end)}`;
}
