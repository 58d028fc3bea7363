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
