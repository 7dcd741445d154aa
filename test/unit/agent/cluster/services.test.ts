import { describe, expect, it } from 'vitest';
import { serviceEnvVars, servicesForPod, type ServiceLike } from '../../../../agent/cluster/services.js';

const svc = (namespace: string, name: string, clusterIP: string, ports: Array<{ name?: string; port: number; protocol?: string }>): ServiceLike => ({
  metadata: { namespace, name },
  spec: { clusterIP, ports },
});

const asMap = (vars: Array<{ name: string; value: string }>): Record<string, string> => Object.fromEntries(vars.map((v) => [v.name, v.value]));

describe('service environment variables (upstream envvars.FromServices)', () => {
  it('gives host, port, named ports and the Docker link variables, first port special-cased', () => {
    const vars = asMap(
      serviceEnvVars([
        svc('default', 'my-web', '10.96.0.10', [
          { name: 'http', port: 80 },
          { name: 'dns-udp', port: 53, protocol: 'UDP' },
        ]),
      ]),
    );
    expect(vars).toEqual({
      MY_WEB_SERVICE_HOST: '10.96.0.10',
      MY_WEB_SERVICE_PORT: '80',
      MY_WEB_SERVICE_PORT_HTTP: '80',
      MY_WEB_SERVICE_PORT_DNS_UDP: '53',
      MY_WEB_PORT: 'tcp://10.96.0.10:80',
      MY_WEB_PORT_80_TCP: 'tcp://10.96.0.10:80',
      MY_WEB_PORT_80_TCP_PROTO: 'tcp',
      MY_WEB_PORT_80_TCP_PORT: '80',
      MY_WEB_PORT_80_TCP_ADDR: '10.96.0.10',
      MY_WEB_PORT_53_UDP: 'udp://10.96.0.10:53',
      MY_WEB_PORT_53_UDP_PROTO: 'udp',
      MY_WEB_PORT_53_UDP_PORT: '53',
      MY_WEB_PORT_53_UDP_ADDR: '10.96.0.10',
    });
  });

  it('skips headless services and brackets IPv6 addresses', () => {
    expect(serviceEnvVars([svc('default', 'headless', 'None', [{ port: 80 }]), svc('default', 'empty', '', [{ port: 80 }])])).toEqual([]);
    expect(asMap(serviceEnvVars([svc('default', 'v6', 'fd00::1', [{ port: 80 }])])).V6_PORT).toBe('tcp://[fd00::1]:80');
  });

  it('picks the pod namespace services with enableServiceLinks, and the kubernetes service always', () => {
    const all = [
      svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
      svc('default', 'web', '10.96.0.2', [{ port: 80 }]),
      svc('team', 'db', '10.96.0.3', [{ port: 5432 }]),
      svc('team', 'api', '10.96.0.4', [{ port: 8080 }]),
    ];
    expect(servicesForPod(all, 'team', true).map((s) => s.metadata.name)).toEqual(['api', 'db', 'kubernetes']);
    expect(servicesForPod(all, 'team', false).map((s) => s.metadata.name)).toEqual(['kubernetes']);
    expect(servicesForPod(all, 'default', true).map((s) => s.metadata.name)).toEqual(['kubernetes', 'web']);
  });
});
