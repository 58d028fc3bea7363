import { describe, expect, it } from 'vitest';
import { parseClusterNodes } from '../src/index.js';

// `CLUSTER NODES` of a 3-master cluster whose master on 7001 died and was replaced by its replica 7004.
const NODES = `
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7001@17001 master,fail - 1700000000000 1700000000000 2 disconnected
c3 127.0.0.1:7002@17002 master - 0 1700000000001 3 connected 10923-16383 [10923->-d4]
d4 127.0.0.1:7003@17003 slave a1 0 1700000000002 1 connected
e5 127.0.0.1:7004@17004 master - 0 1700000000003 7 connected 5461-10922
f6 127.0.0.1:7005@17005 slave c3 0 1700000000004 3 connected
`;

describe('reading CLUSTER NODES', () => {
  it('when a master failed over, then the failed one has no slots and its replica is a master serving them', () => {
    const nodes = parseClusterNodes(NODES);
    expect(nodes).toHaveLength(6);
    expect(nodes.find((node) => node.port === 7001)).toMatchObject({
      role: 'master',
      failed: true,
      slots: [],
    });
    expect(nodes.find((node) => node.port === 7004)).toMatchObject({
      role: 'master',
      failed: false,
      slots: ['5461-10922'],
    });
    expect(nodes.find((node) => node.port === 7003)).toMatchObject({ role: 'replica', masterId: 'a1' });
    // A slot being migrated (`[slot->-node]`) is not a range the node serves.
    expect(nodes.find((node) => node.port === 7002)?.slots).toEqual(['10923-16383']);
  });
});
