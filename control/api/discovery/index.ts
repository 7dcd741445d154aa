// discovery.k8s.io/v1: EndpointSlice. Member types carry an EndpointSlice prefix so they do not clash with core/v1's
// Endpoints types.
export {
  ADDRESS_TYPES as ENDPOINT_SLICE_ADDRESS_TYPES,
  Endpoint as EndpointSliceEndpoint,
  EndpointPort as EndpointSlicePort,
  EndpointSlice,
  endpointSliceKind,
  parseEndpointSlice,
  validateEndpointSlice,
  validateEndpointSliceUpdate,
} from './endpointslice.js';
