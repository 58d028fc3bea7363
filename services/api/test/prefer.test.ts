import { describe, expect, it } from 'vitest';
import { preferredWaitSeconds } from '../src/http/prefer.js';

describe('the Prefer header (RFC 7240)', () => {
  it('when it asks to wait, then the seconds are read, quoted or not, in any case', () => {
    expect(preferredWaitSeconds('wait=10')).toBe(10);
    expect(preferredWaitSeconds('WAIT = 5')).toBe(5);
    expect(preferredWaitSeconds('wait="7"')).toBe(7);
  });

  it('when wait comes among other preferences, then it is found', () => {
    expect(preferredWaitSeconds('respond-async, wait=3')).toBe(3);
    expect(preferredWaitSeconds('return=minimal;foo=bar, wait=12')).toBe(12);
  });

  it('when there is no wait preference or it is malformed, then there is none', () => {
    expect(preferredWaitSeconds(undefined)).toBeUndefined();
    expect(preferredWaitSeconds('respond-async')).toBeUndefined();
    expect(preferredWaitSeconds('wait=soon')).toBeUndefined();
    expect(preferredWaitSeconds('wait=-1')).toBeUndefined();
    expect(preferredWaitSeconds('wait=1.5')).toBeUndefined();
    expect(preferredWaitSeconds('waiting=3')).toBeUndefined();
  });
});
