/**
 * Behind a load balancer: the generated server keeps an idle keep-alive
 * connection open longer than Node's 5 s default (65 s), so a balancer that
 * reuses a connection idle for a few seconds is not answered with a reset.
 * Real server over HTTP; one raw socket reused after 6 s of idleness.
 */
import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startExampleServer, type RunningServer } from '../support/example-server.js';

describe('keep-alive', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startExampleServer({ provider: 'sqlite' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a connection idle for 6 s still carries the next request', async () => {
    const url = new URL(server.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let received = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.on('close', () => {
      closed = true;
    });
    const body = JSON.stringify({ query: '{ __typename }' });
    const request = `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`;
    const answers = () => received.split('HTTP/1.1 200').length - 1;
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    socket.write(request);
    await until(() => answers() === 1);
    expect(answers()).toBe(1);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(closed, 'the server closed the idle connection').toBe(false);
    socket.write(request);
    await until(() => answers() === 2);
    expect(answers()).toBe(2);
    socket.destroy();
  }, 30_000);
});
