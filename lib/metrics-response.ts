import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** Answers a /metrics request with the registry in Prometheus' text format; a 500 when collecting fails. */
export function sendMetrics(res: ServerResponse, registry: Registry): void {
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(text);
    },
    () => {
      res.writeHead(500);
      res.end();
    },
  );
}
