import { ANNOTATION_INGRESS_CLASS, isDefaultIngressClass } from '../../api/index.js';
import type { Admission } from '../rest.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { defaultClassAdmission } from './default-class.js';

/**
 * DefaultIngressClass admission (upstream's plugin/pkg/admission/network/defaultingressclass): a new Ingress that
 * names no class, by spec.ingressClassName or the deprecated kubernetes.io/ingress.class annotation, gets the
 * IngressClass annotated ingressclass.kubernetes.io/is-default-class: "true" (the newest of several).
 */
export function defaultIngressClassAdmission(storage: ObjectStorage): Admission {
  return defaultClassAdmission(storage, {
    classes: { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' },
    target: { group: 'networking.k8s.io', resource: 'ingresses' },
    specField: 'ingressClassName',
    legacyAnnotation: ANNOTATION_INGRESS_CLASS,
    isDefault: isDefaultIngressClass,
  });
}
