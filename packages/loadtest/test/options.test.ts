import { describe, expect, it } from 'vitest';
import { parseOptions } from '../src/options.js';

describe('load client options', () => {
  it('when --url is this machine, then it is taken as given', () => {
    for (const url of [
      'http://127.0.0.1:3000',
      'http://localhost:8080',
      'http://[::1]:3000',
      'http://127.1.2.3',
    ])
      expect(parseOptions(['--url', url]).url, url).toBe(new URL(url).origin);
  });

  it('when --url is another host, then it needs --allow-remote, so that nobody loads a host by a typo', () => {
    expect(() => parseOptions(['--url', 'https://staging.example.com'])).toThrow(/--allow-remote/);
    expect(() => parseOptions(['--url', 'http://10.0.0.5:3000'])).toThrow(/--allow-remote/);
    const options = parseOptions(['--url', 'https://staging.example.com', '--allow-remote']);
    expect(options).toMatchObject({ url: 'https://staging.example.com', allowRemote: true });
  });

  it('when --url has a path, another scheme or is no URL, then it is refused', () => {
    expect(() => parseOptions(['--url', 'http://127.0.0.1:3000/api'])).toThrow(/without a path/);
    expect(() => parseOptions(['--url', 'ftp://127.0.0.1'])).toThrow(/http/);
    expect(() => parseOptions(['--url', 'not a url'])).toThrow(/must be a URL/);
  });

  it('when --report and --json are given, then both files are kept', () => {
    expect(parseOptions(['--report', 'run.html', '--json', 'run.json'])).toMatchObject({
      report: 'run.html',
      json: 'run.json',
      allowRemote: false,
    });
  });

  it('when --sale-start-in is given, then the run is an on-sale with half the purchases before the start by default', () => {
    expect(parseOptions([])).toMatchObject({ saleStartIn: 0 });
    expect(parseOptions(['--sale-start-in', '5'])).toMatchObject({ saleStartIn: 5, earlyRatio: 0.5 });
    expect(parseOptions(['--sale-start-in', '5', '--early-ratio', '0.8'])).toMatchObject({ earlyRatio: 0.8 });
  });

  it('when the on-sale options are out of range, alone, or combined with what its audit cannot replay, then they are refused', () => {
    expect(() => parseOptions(['--sale-start-in', '0'])).toThrow(/from 1 to 3600/);
    expect(() => parseOptions(['--early-ratio', '0.5'])).toThrow(/needs --sale-start-in/);
    expect(() => parseOptions(['--sale-start-in', '5', '--early-ratio', '2'])).toThrow(/between 0 and 1/);
    for (const flag of [
      ['--cancel-ratio', '0.1'],
      ['--hold-seconds', '5'],
      ['--accept-only'],
      ['--no-audit'],
    ])
      expect(() => parseOptions(['--sale-start-in', '5', ...flag])).toThrow(
        `does not combine with ${flag[0]}`,
      );
  });

  it('when sale operations are given, then they come in the order of their shares, resizes as often as given', () => {
    expect(parseOptions([]).saleOperations).toEqual([]);
    expect(
      parseOptions([
        '--resize-at',
        '0.6:800',
        '--pause-at',
        '0.2:1500',
        '--resize-at',
        '0.3:200',
        '--close-at',
        '0.9',
      ]).saleOperations,
    ).toEqual([
      { at: 0.2, kind: 'pause', forMs: 1500 },
      { at: 0.3, kind: 'resize', totalTickets: 200 },
      { at: 0.6, kind: 'resize', totalTickets: 800 },
      { at: 0.9, kind: 'close' },
    ]);
    expect(parseOptions(['--cancel-event-at', '1']).saleOperations).toEqual([{ at: 1, kind: 'cancel' }]);
  });

  it('when a sale operation is malformed, comes after the end of the sale, or meets what its audit cannot follow, then it is refused', () => {
    expect(() => parseOptions(['--resize-at', '0.5'])).toThrow(/--resize-at takes F:N/);
    expect(() => parseOptions(['--resize-at', '0.5:0'])).toThrow(/--resize-at takes F:N/);
    expect(() => parseOptions(['--resize-at', '1.5:10'])).toThrow(/0 < F <= 1/);
    expect(() => parseOptions(['--pause-at', '0.5'])).toThrow(/--pause-at takes F:MS/);
    expect(() => parseOptions(['--close-at', '0'])).toThrow(/0 < F <= 1/);
    expect(() => parseOptions(['--close-at', 'half'])).toThrow(/0 < F <= 1/);
    expect(() => parseOptions(['--close-at', '0.5', '--cancel-event-at', '0.6'])).toThrow(/give one/);
    expect(() => parseOptions(['--close-at', '0.5', '--resize-at', '0.5:10'])).toThrow(
      /every other operation must come before --close-at/,
    );
    expect(() => parseOptions(['--cancel-event-at', '0.5', '--pause-at', '0.7:100'])).toThrow(
      /before --cancel-event-at/,
    );
    expect(() => parseOptions(['--sale-start-in', '5', '--resize-at', '0.5:10'])).toThrow(
      /do not combine with --sale-start-in/,
    );
    expect(parseOptions(['--sale-start-in', '5', '--pause-at', '0.5:100']).saleOperations).toHaveLength(1);
    for (const flag of ['--accept-only', '--no-audit'])
      expect(() => parseOptions(['--close-at', '0.5', flag])).toThrow(`do not combine with ${flag}`);
  });
});
