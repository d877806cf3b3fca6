/**
 * A round-robin HTTP load balancer for the replica load row: each request goes
 * to the next target (a server replica), the answer streamed through. Like a
 * production balancer it keeps upstream connections alive (closing idle ones
 * after 30 s, before the replicas' 65 s), and a request whose reused connection
 * was reset before any answer is sent once more (sync requests are safe to replay).
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 30_000 });
  const counts = targets.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const send = (attempt: number): void => {
        const i = next++ % targets.length;
        counts[i]! += 1;
        const target = new URL(req.url ?? '/', targets[i]);
        const upstream = http.request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          const reused = (upstream as unknown as { reusedSocket?: boolean }).reusedSocket === true;
          if (attempt === 0 && reused && !res.headersSent && error.code === 'ECONNRESET') return send(1);
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        upstream.end(body);
      };
      send(0);
    });
  });
  server.keepAliveTimeout = 65_000; // as the replicas (and an ALB's 60 s client idle timeout)
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
