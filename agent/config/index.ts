export type { PodSource, PodSourceKind, SourceError, SourceListener, SourceUpdate } from './types.js';
export { formatSourceError, parseManifestText, type ManifestResult } from './manifest.js';
export {
  applyStaticPodDefaults,
  ConfigHashAnnotation,
  ConfigSeenAnnotation,
  ConfigSourceAnnotation,
  FirstSeen,
  staticPodUid,
  type StaticPodContext,
} from './static-pod.js';
export { FileSource, type FileSourceOptions } from './file-source.js';
export { parseHeaderFlag, UrlSource, type HeaderMap, type UrlSourceOptions } from './url-source.js';
export { HttpSubmissionSource, type HttpSubmissionOptions, type SubmitResult } from './http-source.js';
export { merge, PodConfig, type DesiredListener, type DesiredPods } from './pod-config.js';
