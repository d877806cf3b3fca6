/**
 * A round-robin HTTP load balancer for the replica load row: each request goes
 * to the next target (a server replica), body and answer streamed through.
 */
import http from 'node:http';

export interface Proxy {
  url: string;
  /** Requests sent to each target. */
  counts: number[];
  stop(): Promise<void>;
}

/** `targets`: base URLs (`http://127.0.0.1:port`); the proxy keeps the request path. */
export async function startRoundRobinProxy(targets: string[]): Promise<Proxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const counts = targets.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    const i = next++ % targets.length;
    counts[i]! += 1;
    const target = new URL(req.url ?? '/', targets[i]);
    const upstream = http.request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
