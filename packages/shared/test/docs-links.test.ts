import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { remark } from 'remark';
import { engine } from 'unified-engine';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The problems remark-validate-links finds in `files`. Run through unified-engine (as remark-cli runs
 * it), so links to headings in the other files are checked too, not only links to files.
 */
function linkProblems(files: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    engine(
      {
        processor: remark(),
        cwd: ROOT,
        files,
        extensions: ['md'],
        // By name, as remark-cli loads it: the engine then hands it the whole file set.
        plugins: [['remark-validate-links', { repository: false, root: ROOT }]],
        detectConfig: false,
        detectIgnore: false,
        ignoreName: '',
        output: false,
        out: false,
        silent: true,
        quiet: true,
        reporter: () => '',
      },
      (error, _code, context) => {
        if (error) return reject(error);
        resolve(
          (context?.files ?? []).flatMap((file) =>
            file.messages.map((message) => `${file.path}:${message.line ?? '?'} ${message.reason}`),
          ),
        );
      },
    );
  });
}

describe('documentation links', () => {
  it('when README.md and docs/ link to a file or a heading, then it exists', async () => {
    expect(await linkProblems(['README.md', 'docs'])).toEqual([]);
  });

  it('when a link points at a missing file or heading, then it is reported', async () => {
    const problems = await linkProblems(['packages/shared/test/fixtures/broken-links.md']);
    expect(problems).toEqual([
      expect.stringMatching(/broken-links\.md:3 .*missing\.md/),
      expect.stringMatching(/broken-links\.md:5 .*no-such-heading/),
    ]);
  });
});

/** The entries of README's layout: each line's path at its start, with the folders its text names. */
function layoutEntries(readme: string): { path: string; named: string[] }[] {
  const block = /## Layout\n+```\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no layout block under "## Layout"');
  const entries: { path: string; named: string[] }[] = [];
  let top = '';
  for (const line of block.split('\n')) {
    const start = /^(\S+)\s+(.*)$/.exec(line) ?? /^ {2}(\S+)\s+(.*)$/.exec(line);
    const entry = start === null ? entries.at(-1) : undefined;
    if (start !== null) {
      const [, token = '', text = ''] = start;
      const path = line.startsWith(' ') ? `${top}/${token}` : token;
      if (!line.startsWith(' ')) top = token.replace(/\/$/, '');
      entries.push({ path: path.replace(/\/+$/, '').replace(/\/\//g, '/'), named: foldersIn(text) });
    } else if (entry !== undefined) entry.named.push(...foldersIn(line));
  }
  return entries;
}

/** `db/`, `events/`: a folder named in the text (not part of a longer path such as a package name). */
const foldersIn = (text: string): string[] =>
  [...text.matchAll(/(?<![\w/.@-])([a-z][\w-]*)\/(?![\w/])/g)].map((match) => match[1] ?? '');

describe('README layout', () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const entries = layoutEntries(readme);

  it('when the layout names a path or a folder, then it exists (in the entry itself, or in its src/)', () => {
    expect(entries.length).toBeGreaterThan(10);
    const missing = entries.flatMap(({ path, named }) => [
      ...(existsSync(`${ROOT}${path}`) ? [] : [path]),
      ...named
        .filter(
          (folder) => !existsSync(`${ROOT}${path}/${folder}`) && !existsSync(`${ROOT}${path}/src/${folder}`),
        )
        .map((folder) => `${path}: ${folder}/`),
    ]);
    expect(missing).toEqual([]);
  });

  it('when the repository has a top folder, then the layout names it', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const topFolders = new Set(
      tracked.filter((file) => file.includes('/') && !file.startsWith('.')).map((file) => file.split('/')[0]),
    );
    const named = new Set(entries.map(({ path }) => path.split('/')[0]));
    expect([...topFolders].filter((folder) => !named.has(folder))).toEqual([]);
  });

  it('when a layout line names a folder that is not there, then the check finds it', () => {
    const entriesOf = layoutEntries(
      '## Layout\n\n```\nservices/api         routes in nowhere/ and events/\n```\n',
    );
    expect(entriesOf).toEqual([{ path: 'services/api', named: ['nowhere', 'events'] }]);
    expect(existsSync(`${ROOT}services/api/src/nowhere`)).toBe(false);
  });
});
