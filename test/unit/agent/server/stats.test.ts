import { describe, expect, it } from 'vitest';
import { usageFromDockerStats } from '../../../../agent/runtime/streaming.js';
import { parseProcUsage, resourceMetrics, summary, type UsageSnapshot } from '../../../../agent/server/stats.js';

const snapshot: UsageSnapshot = {
  nodeName: 'n1',
  nodeStartTime: new Date('2026-11-30T10:00:00Z'),
  time: new Date('2026-11-30T10:05:00Z'),
  node: { cpuNanoSeconds: 5e12, nanoCores: 250_000_000, memoryUsageBytes: 3e9, workingSetBytes: 2e9, availableBytes: 6e9 },
  pods: [
    {
      name: 'web',
      namespace: 'default',
      uid: 'u1',
      startTime: new Date('2026-11-30T10:01:00Z'),
      containers: [
        { name: 'a', startTime: new Date('2026-11-30T10:01:01Z'), usage: { cpuNanoSeconds: 1_500_000_000, nanoCores: 1000, memoryUsageBytes: 300, workingSetBytes: 200 } },
        { name: 'b', startTime: new Date('2026-11-30T10:01:02Z'), usage: { cpuNanoSeconds: 500_000_000, nanoCores: 2000, memoryUsageBytes: 100, workingSetBytes: 50, rssBytes: 40 } },
      ],
    },
  ],
};

describe('summary (stats/v1alpha1)', () => {
  it('reports the node and each pod with its containers and their totals', () => {
    expect(summary(snapshot)).toEqual({
      node: {
        nodeName: 'n1',
        startTime: '2026-11-30T10:00:00Z',
        cpu: { time: '2026-11-30T10:05:00Z', usageNanoCores: 250_000_000, usageCoreNanoSeconds: 5e12 },
        memory: { time: '2026-11-30T10:05:00Z', availableBytes: 6e9, usageBytes: 3e9, workingSetBytes: 2e9 },
      },
      pods: [
        {
          podRef: { name: 'web', namespace: 'default', uid: 'u1' },
          startTime: '2026-11-30T10:01:00Z',
          containers: [
            { name: 'a', startTime: '2026-11-30T10:01:01Z', cpu: { time: '2026-11-30T10:05:00Z', usageNanoCores: 1000, usageCoreNanoSeconds: 1_500_000_000 }, memory: { time: '2026-11-30T10:05:00Z', usageBytes: 300, workingSetBytes: 200 } },
            { name: 'b', startTime: '2026-11-30T10:01:02Z', cpu: { time: '2026-11-30T10:05:00Z', usageNanoCores: 2000, usageCoreNanoSeconds: 500_000_000 }, memory: { time: '2026-11-30T10:05:00Z', usageBytes: 100, workingSetBytes: 50, rssBytes: 40 } },
          ],
          cpu: { time: '2026-11-30T10:05:00Z', usageNanoCores: 3000, usageCoreNanoSeconds: 2_000_000_000 },
          memory: { time: '2026-11-30T10:05:00Z', usageBytes: 400, workingSetBytes: 250 },
        },
      ],
    });
  });
});

describe('resourceMetrics (/metrics/resource)', () => {
  it("uses upstream's metric names, labels and timestamps", () => {
    const text = resourceMetrics(snapshot);
    const ts = snapshot.time.getTime();
    expect(text).toContain(`container_cpu_usage_seconds_total{container="a",namespace="default",pod="web"} 1.5 ${ts}\n`);
    expect(text).toContain(`container_memory_working_set_bytes{container="b",namespace="default",pod="web"} 50 ${ts}\n`);
    expect(text).toContain(`container_start_time_seconds{container="a",namespace="default",pod="web"} ${Date.parse('2026-11-30T10:01:01Z') / 1000} ${ts}\n`);
    expect(text).toContain(`node_cpu_usage_seconds_total 5000 ${ts}\n`);
    expect(text).toContain(`node_memory_working_set_bytes 2000000000 ${ts}\n`);
    expect(text).toContain(`pod_cpu_usage_seconds_total{namespace="default",pod="web"} 2 ${ts}\n`);
    expect(text).toContain(`pod_memory_working_set_bytes{namespace="default",pod="web"} 250 ${ts}\n`);
    expect(text).toContain('# TYPE node_cpu_usage_seconds_total counter\n');
    expect(text).toContain('# TYPE pod_memory_working_set_bytes gauge\n');
    expect(text.endsWith('resource_scrape_error 0\n')).toBe(true);
    expect(resourceMetrics({ ...snapshot, scrapeError: true }).endsWith('resource_scrape_error 1\n')).toBe(true);
  });
});

describe('usage sources', () => {
  it('reads node CPU time from /proc/stat and the working set from /proc/meminfo', () => {
    const u = parseProcUsage('cpu  100 20 30 1000 50 5 5 10 0 0\ncpu0 1 2 3\n', 'MemTotal:       1000 kB\nMemFree:         300 kB\nMemAvailable:    600 kB\n');
    expect(u).toEqual({ cpuNanoSeconds: 170 * 10_000_000, memoryUsageBytes: 700 * 1024, workingSetBytes: 400 * 1024, availableBytes: 600 * 1024 });
  });

  it('turns Docker stats into usage as cadvisor does (cgroup v2 and v1 field names)', () => {
    const v2 = usageFromDockerStats({
      read: '2026-11-30T10:00:01.000Z',
      preread: '2026-11-30T10:00:00.000Z',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 } },
      precpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } },
      memory_stats: { usage: 1000, stats: { inactive_file: 300, anon: 600 } },
    });
    expect(v2).toEqual({ cpuNanoSeconds: 3_000_000_000, nanoCores: 500_000_000, memoryUsageBytes: 1000, workingSetBytes: 700, rssBytes: 600 });
    const v1 = usageFromDockerStats({ cpu_stats: { cpu_usage: { total_usage: 10 } }, precpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: { usage: 100, stats: { total_inactive_file: 150, total_rss: 20 } } });
    expect(v1).toEqual({ cpuNanoSeconds: 10, memoryUsageBytes: 100, workingSetBytes: 0, rssBytes: 20 });
  });
});
