import { describe, expect, it } from 'vitest';
import { nodeMetricsItems, podMetricsItems } from '../../../../control/metrics/api.js';
import { parseResourceMetrics } from '../../../../control/metrics/resource-text.js';
import { computeUsage } from '../../../../control/metrics/usage.js';

const scrape = (cpuNode: number, cpuWeb: number, ts: number): string => `# HELP node_cpu_usage_seconds_total Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total ${cpuNode} ${ts}
node_memory_working_set_bytes 2.147483648e+09 ${ts}
container_cpu_usage_seconds_total{container="web",namespace="default",pod="web-1"} ${cpuWeb} ${ts}
container_memory_working_set_bytes{container="web",namespace="default",pod="web-1"} 1.6777216e+07 ${ts}
container_cpu_usage_seconds_total{container="side",namespace="default",pod="web-1"} 1 ${ts}
container_memory_working_set_bytes{container="side",namespace="default",pod="web-1"} 1024 ${ts}
container_cpu_usage_seconds_total{container="x",namespace="default"} 5 ${ts}
this line is not prometheus text
scrape_error 0
`;

describe('resource metrics from the kubelet', () => {
  it('parses node and container samples, skipping what it cannot read', () => {
    const s = parseResourceMetrics(scrape(100, 10, 1_000_000), 0);
    expect(s.node.cpuSeconds).toEqual({ value: 100, timestampMs: 1_000_000 });
    expect(s.node.memoryBytes?.value).toBe(2147483648);
    expect([...s.containers.keys()]).toEqual(['default/web-1']);
    expect(s.containers.get('default/web-1')?.get('web')?.memoryBytes?.value).toBe(16777216);
  });

  it('computes CPU as the counter rate between two scrapes and memory as the latest working set', () => {
    const first = parseResourceMetrics(scrape(100, 10, 1_000_000), 0);
    const second = parseResourceMetrics(scrape(130, 11.5, 1_015_000), 0);
    expect(computeUsage(undefined, first)).toEqual({ pods: [] });
    const usage = computeUsage(first, second);
    expect(usage.node).toEqual({ cpuNanoCores: 2_000_000_000, memoryBytes: 2147483648, timestampMs: 1_015_000, windowMs: 15_000 });
    expect(usage.pods).toEqual([
      {
        namespace: 'default',
        name: 'web-1',
        containers: [
          { name: 'web', usage: { cpuNanoCores: 100_000_000, memoryBytes: 16777216, timestampMs: 1_015_000, windowMs: 15_000 } },
          { name: 'side', usage: { cpuNanoCores: 0, memoryBytes: 1024, timestampMs: 1_015_000, windowMs: 15_000 } },
        ],
      },
    ]);
    // A restarted container's counter goes backwards: the pod waits for the next pair.
    expect(computeUsage(second, parseResourceMetrics(scrape(131, 0.5, 1_030_000), 0)).pods).toEqual([]);
  });

  it('renders metrics.k8s.io objects with metrics-server\'s quantities', () => {
    const first = parseResourceMetrics(scrape(100, 10, 1_000_000), 0);
    const usage = computeUsage(first, parseResourceMetrics(scrape(130, 11.5, 1_015_000), 0));
    const reports = new Map([['n1', usage]]);
    const [node] = nodeMetricsItems([{ metadata: { name: 'n1', labels: { a: 'b' } } }, { metadata: { name: 'unknown' } }], reports);
    expect(node).toMatchObject({ kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'n1', labels: { a: 'b' } }, window: '15s', usage: { cpu: '2000000000n', memory: '2Gi' } });
    const pods = podMetricsItems([{ metadata: { name: 'web-1', namespace: 'default' } }, { metadata: { name: 'web-1', namespace: 'other' } }], reports);
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({ kind: 'PodMetrics', containers: [{ name: 'web', usage: { cpu: '100000000n', memory: '16Mi' } }, { name: 'side', usage: { cpu: '0n', memory: '1Ki' } }] });
  });
});
