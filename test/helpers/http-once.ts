import { get } from 'node:http';

export interface OnceResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP GET on a connection of its own, closed after it. fetch() keeps connections for the next request, and one
 * made to a ClusterIP before the proxy had programmed it keeps going wherever its first packet went: a poll would
 * never see the rule arrive.
 */
export function getOnce(url: string, timeoutMs: number): Promise<OnceResponse> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { connection: 'close' }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
