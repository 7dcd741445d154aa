/**
 * Reads the kubelet's /metrics/resource (Prometheus text format) into samples: the cumulative CPU seconds and the
 * memory working set of the node and of each container, with the time each was taken.
 */

export interface Sample {
  value: number;
  /** Milliseconds since the epoch; the scrape time when the line carries none. */
  timestampMs: number;
}

export interface ResourceSamples {
  node: { cpuSeconds?: Sample; memoryBytes?: Sample };
  /** Keyed by "namespace/pod", then container name. */
  containers: Map<string, Map<string, { cpuSeconds?: Sample; memoryBytes?: Sample }>>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function parseLabels(text: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (!text) return out;
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) return undefined;
    out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}

/** Lines that do not parse are skipped: one odd line must not hide a node's other samples. */
export function parseResourceMetrics(text: string, scrapedAtMs: number): ResourceSamples {
  const result: ResourceSamples = { node: {}, containers: new Map() };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels = parseLabels(m[2]);
    if (!labels) continue;
    const sample: Sample = { value, timestampMs: m[4] ? Number(m[4]) : scrapedAtMs };
    const name = m[1];
    if (name === 'node_cpu_usage_seconds_total') result.node.cpuSeconds = sample;
    else if (name === 'node_memory_working_set_bytes') result.node.memoryBytes = sample;
    else if (name === 'container_cpu_usage_seconds_total' || name === 'container_memory_working_set_bytes') {
      const { namespace, pod, container } = labels;
      if (!namespace || !pod || !container) continue;
      const key = `${namespace}/${pod}`;
      let byContainer = result.containers.get(key);
      if (!byContainer) result.containers.set(key, (byContainer = new Map()));
      const entry = byContainer.get(container) ?? {};
      if (name === 'container_cpu_usage_seconds_total') entry.cpuSeconds = sample;
      else entry.memoryBytes = sample;
      byContainer.set(container, entry);
    }
  }
  return result;
}
