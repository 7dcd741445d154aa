import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * How the API server reaches node agents: over TLS with its own client certificate (kube-apiserver's
 * --kubelet-client-certificate/--kubelet-client-key), checking the agent's serving certificate only when
 * --kubelet-certificate-authority is given (agents serve self-signed certificates by default, as kubelets do).
 */
export interface KubeletClientConfig {
  cert?: string;
  key?: string;
  ca?: string;
}

function tlsOptions(host: string, cfg: KubeletClientConfig): Record<string, unknown> {
  return {
    ...(cfg.cert ? { cert: cfg.cert } : {}),
    ...(cfg.key ? { key: cfg.key } : {}),
    ...(cfg.ca ? { ca: cfg.ca } : {}),
    rejectUnauthorized: cfg.ca !== undefined,
    ...(isIP(host) ? {} : { servername: host }),
  };
}

/** An HTTP request to the node agent: HTTPS with the client certificate when configured, plain HTTP otherwise. */
export function kubeletRequest(cfg: KubeletClientConfig | undefined, opts: RequestOptions & { host: string }, onResponse: (res: IncomingMessage) => void): ClientRequest {
  if (!cfg) return httpRequest(opts, onResponse);
  return httpsRequest({ ...opts, ...tlsOptions(opts.host, cfg), agent: false }, onResponse);
}

export function kubeletScheme(cfg: KubeletClientConfig | undefined): string {
  return cfg ? 'https' : 'http';
}

/** A raw TLS connection to the node agent, for upgraded (streaming) requests. */
export function kubeletConnect(cfg: KubeletClientConfig, host: string, port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ...tlsOptions(host, cfg) }, () => resolve(socket));
    socket.once('error', reject);
  });
}
