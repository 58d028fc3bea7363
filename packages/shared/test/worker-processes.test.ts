import { describe, expect, it } from 'vitest';
import {
  encodeLeaseHolder,
  parseLeaseHolder,
  workerConnectionName,
  workerOfConnection,
  workerProcessName,
} from '../src/queue/worker-processes.js';

describe('worker processes as operators see them', () => {
  it('when a worker names its connection, then the dashboard reads host and pid back from it', () => {
    const worker = workerProcessName('box-7.example', 4242);
    expect(worker).toBe('box-7.example:4242');
    const name = workerConnectionName('tickets', worker);
    expect(workerOfConnection('tickets', name)).toBe(worker);
    // Other connections of the system, and other systems' workers, are not this one's workers.
    for (const other of ['tickets:api', 'tickets:worker-wakeups', 'tickets:worker:', 'other:worker:a:1'])
      expect(workerOfConnection('tickets', other), other).toBeUndefined();
  });

  it('when a host name holds spaces or quotes, then the name it gives Redis holds none', () => {
    expect(workerProcessName('my "box" 1', 7)).toBe('my__box__1:7');
  });

  it('when a lease value is read, then only a well-formed holder comes back', () => {
    const holder = { worker: 'box:1', since: 1_700_000_000_000, token: 'a-token' };
    expect(parseLeaseHolder(encodeLeaseHolder(holder))).toEqual(holder);
    for (const value of [null, 'a-bare-uuid-token', '[]', '["box:1","soon","t"]', '{"worker":"box:1"}'])
      expect(parseLeaseHolder(value), String(value)).toBeUndefined();
  });
});
