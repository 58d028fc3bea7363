import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpHelpers } from './support/http.js';
import { useTestSystem } from './support/test-system.js';

const system = await useTestSystem({}, { worker: false });
const { createEvent, submit } = httpHelpers(() => system);

/** A raw keep-alive connection, to see exactly what the server sends and when it hangs up. */
function rawConnection(port: number): { socket: Socket; received: () => string; ended: Promise<unknown> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  return { socket, received: () => received, ended: new Promise((resolve) => socket.on('close', resolve)) };
}

const bodyOf = (response: string): unknown => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

describe('shutdown', () => {
  it('when the api closes, then a waiting long-poll answers at once, a request still arriving gets 503 {code, message}, and connections end', async () => {
    const event = await createEvent({ totalTickets: 1 });
    const purchase = await submit(event.id, { userId: 'closing' });
    await system.app.listen({ port: 0, host: '127.0.0.1' });
    const address = system.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    const polling = rawConnection(port);
    polling.socket.write(`GET /purchases/${purchase.purchaseId}?waitMs=20000 HTTP/1.1\r\nHost: x\r\n\r\n`);
    // A client half-way through sending its request when the shutdown begins.
    const arriving = rawConnection(port);
    arriving.socket.write('GET /health HTTP/1.1\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    const closed = system.app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    arriving.socket.write('Host: x\r\n\r\n');
    await Promise.all([closed, polling.ended, arriving.ended]);
    expect(Date.now() - started).toBeLessThan(5_000);

    expect(polling.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(polling.received()).toMatch(/connection: close/i);
    expect(bodyOf(polling.received())).toMatchObject({ status: 'queued' });
    expect(arriving.received()).toMatch(/^HTTP\/1\.1 503/);
    expect(bodyOf(arriving.received())).toEqual({ code: 'unavailable', message: expect.any(String) });
  });
});
