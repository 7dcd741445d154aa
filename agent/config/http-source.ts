import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Pod } from '../../control/api/index.js';
import { parseManifestText } from './manifest.js';
import { errorMessage, OnceReporter, updateSignature } from './report.js';
import { applyStaticPodDefaults, FirstSeen, staticPodUid } from './static-pod.js';
import type { PodSource, SourceError, SourceListener } from './types.js';

export interface HttpSubmissionOptions {
  /** Where submitted manifests are kept across restarts, e.g. `<rootDir>/http-pods`. */
  stateDir: string;
  nodeName: string;
  logger: Logger;
  onUpdate: SourceListener;
  now?: () => Date;
}

export type SubmitResult = { ok: true; pods: Pod[] } | { ok: false; errors: SourceError[] };

/** Fed to the UID hash instead of a path, so moving the state directory does not recreate every submitted pod. */
const submissionOrigin = 'http-submission';
const acceptedTypes = ['json', 'yaml', 'text/plain', 'application/octet-stream'];

interface Entry {
  /** The pod as submitted (parsed, with its UID fixed), which is what is persisted. */
  manifest: Pod;
  pod: Pod;
  file: string;
}

/**
 * The agent's own "HTTP server" pod source: manifests posted to the agent's endpoint. The HTTP handling lives with the
 * agent's server; this class keeps the set, validates submissions and persists each pod as a JSON file so the pods
 * survive an agent restart. A submission is all or nothing, and replaces pods of the same namespace/name.
 */
export class HttpSubmissionSource implements PodSource {
  readonly name = 'http';
  private readonly entries = new Map<string, Entry>();
  private readonly seen: FirstSeen;
  private readonly errorsLog: OnceReporter;
  private loadErrors: SourceError[] = [];
  private lastSignature: string | undefined;

  constructor(private readonly opts: HttpSubmissionOptions) {
    this.seen = new FirstSeen(opts.now);
    this.errorsLog = new OnceReporter(opts.logger, 'warn');
  }

  /** Loads what earlier runs persisted and pushes the first update. A corrupt file is reported, not fatal. */
  hasSynced(): boolean {
    return this.started;
  }

  private started = false;

  async start(): Promise<void> {
    this.started = true;
    this.entries.clear();
    this.loadErrors = [];
    const dir = this.opts.stateDir;
    try {
      mkdirSync(dir, { recursive: true });
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.') || !name.endsWith('.json')) continue;
        this.loadFile(path.join(dir, name));
      }
    } catch (err) {
      this.loadErrors.push({ origin: dir, message: `cannot load submitted pods: ${errorMessage(err)}` });
    }
    this.push(true);
  }

  async stop(): Promise<void> {}

  /** Validates and stores every pod in the body, replacing pods with the same namespace/name; nothing on error. */
  submit(bodyText: string, contentType: string | undefined, origin = 'http request'): SubmitResult {
    const type = (contentType ?? '').toLowerCase();
    if (type !== '' && !acceptedTypes.some((t) => type.includes(t))) {
      return fail(origin, `unsupported content type ${JSON.stringify(contentType)}: send application/json or application/yaml`);
    }
    const parsed = parseManifestText(bodyText, origin);
    if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
    if (parsed.pods.length === 0) return fail(origin, 'the body holds no pods');
    const batch = new Map<string, Entry>();
    for (const pod of parsed.pods) {
      const key = keyOf(pod.metadata.namespace, pod.metadata.name);
      if (batch.has(key)) return fail(origin, `pod ${JSON.stringify(key)} appears more than once`);
      batch.set(key, this.entryFor(pod));
    }
    try {
      for (const entry of batch.values()) persist(entry);
    } catch (err) {
      return fail(origin, `cannot store the pods: ${errorMessage(err)}`);
    }
    for (const [key, entry] of batch) this.entries.set(key, entry);
    this.push();
    return { ok: true, pods: [...batch.values()].map((e) => e.pod) };
  }

  /** Removes a submitted pod, by the name it was submitted under or the node-suffixed name it runs under. */
  remove(namespace: string, name: string): boolean {
    const key = this.findKey(namespace, name);
    if (key === undefined) return false;
    const entry = this.entries.get(key);
    if (entry) rmSync(entry.file, { force: true });
    this.entries.delete(key);
    this.push();
    return true;
  }

  list(): Pod[] {
    return this.sorted().map((e) => e.pod);
  }

  private findKey(namespace: string, name: string): string | undefined {
    const direct = keyOf(namespace, name);
    if (this.entries.has(direct)) return direct;
    for (const [key, e] of this.entries) {
      if (e.pod.metadata.namespace === namespace && e.pod.metadata.name === name) return key;
    }
    return undefined;
  }

  private entryFor(pod: Pod): Entry {
    // The UID is fixed into the stored manifest, so the pod keeps it after a restart whatever re-parsing does.
    const uid = pod.metadata.uid || staticPodUid(pod, { nodeName: this.opts.nodeName, source: 'http', origin: submissionOrigin });
    const manifest = structuredClone(pod);
    manifest.metadata.uid = uid;
    const seen = this.seen.stamp(uid);
    const defaulted = applyStaticPodDefaults(manifest, { nodeName: this.opts.nodeName, source: 'http', origin: submissionOrigin, seen });
    const file = path.join(this.opts.stateDir, `${encodeURIComponent(pod.metadata.namespace)}_${encodeURIComponent(pod.metadata.name)}.json`);
    return { manifest, pod: defaulted, file };
  }

  private loadFile(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      this.loadErrors.push({ origin: file, message: `cannot read: ${errorMessage(err)}` });
      return;
    }
    const parsed = parseManifestText(text, file);
    const pod = parsed.pods[0];
    if (parsed.errors.length > 0 || parsed.pods.length !== 1 || !pod) {
      const errors = parsed.errors.length > 0 ? parsed.errors : [{ origin: file, message: 'expected exactly one pod' }];
      this.loadErrors.push(...errors);
      return;
    }
    const entry = { ...this.entryFor(pod), file };
    this.entries.set(keyOf(pod.metadata.namespace, pod.metadata.name), entry);
  }

  private sorted(): Entry[] {
    return [...this.entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
  }

  private push(force = false): void {
    const entries = this.sorted();
    const pods = entries.map((e) => e.pod);
    this.seen.retain(pods.map((p) => p.metadata.uid ?? ''));
    this.errorsLog.reportErrors(this.loadErrors);
    const signature = updateSignature(pods, this.loadErrors);
    if (!force && signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.opts.onUpdate({ source: this.name, pods, origins: entries.map((e) => e.file), errors: [...this.loadErrors] });
  }
}

function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

function fail(origin: string, message: string): SubmitResult {
  return { ok: false, errors: [{ origin, message }] };
}

/** Write-then-rename, so a crash mid-write leaves the old manifest or the new one, never half of one. */
function persist(entry: Entry): void {
  mkdirSync(path.dirname(entry.file), { recursive: true });
  const tmp = path.join(path.dirname(entry.file), `.${path.basename(entry.file)}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(entry.manifest, null, 2)}\n`);
  renameSync(tmp, entry.file);
}
