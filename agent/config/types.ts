import type { Pod } from '../../control/api/index.js';

/** Where a pod came from, as upstream's kubernetes.io/config.source annotation names it. */
export type PodSourceKind = 'file' | 'http' | 'api';

/** A problem a source found with its input; never fatal, always reported with where it came from. */
export interface SourceError {
  /** The file path, URL or request that held the bad input. */
  origin: string;
  /** One line a user can act on, naming the field where there is one: `spec.containers[0].image: Required value`. */
  message: string;
  /** Set on errors the merge itself found (two sources defining one pod); sources report their own errors. */
  conflict?: true;
}

/**
 * A source's complete current set of pods (upstream's SET operation): each update replaces everything that source
 * said before, which keeps the merge level-triggered.
 */
export interface SourceUpdate {
  /** A stable name for the source instance: "file", "url", "http". */
  source: string;
  pods: Pod[];
  /**
   * Where each pod came from (`origins[i]` is the file path or URL of `pods[i]`). PodConfig uses it to order and name
   * conflicting pods; a source that leaves it out is treated as one origin named after the source.
   */
  origins?: string[];
  errors: SourceError[];
}

export interface PodSource {
  readonly name: string;
  /**
   * True once the source knows its complete set (the directory was listed, the URL answered with a manifest):
   * only then may the agent treat a pod missing from it as unwanted. A URL that is down at start never is.
   */
  hasSynced(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type SourceListener = (update: SourceUpdate) => void;
