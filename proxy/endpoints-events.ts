import { EndpointSliceTracker, endpointsFromV1, type EndpointsLike, type EndpointSliceLike, type ServiceEndpoints } from './endpoints.js';
import { namespacedName } from './model.js';

/**
 * The Endpoints and EndpointSlice informer handlers of the proxiers and the cluster DNS view: whichever object
 * changed, what comes out is the endpoints of one service ("namespace/name"), merged across its slices, or undefined
 * when it has none left.
 */
export abstract class EndpointsEventHandlers {
  private readonly slices = new EndpointSliceTracker();

  protected abstract setEndpoints(key: string, endpoints: ServiceEndpoints | undefined): void;

  onEndpointsAdd(ep: EndpointsLike): void {
    this.onEndpointsUpdate(undefined, ep);
  }

  onEndpointsUpdate(_old: EndpointsLike | undefined, ep: EndpointsLike): void {
    this.setEndpoints(namespacedName(ep), endpointsFromV1(ep));
  }

  onEndpointsDelete(ep: EndpointsLike): void {
    this.setEndpoints(namespacedName(ep), undefined);
  }

  onEndpointSliceAdd(slice: EndpointSliceLike): void {
    const r = this.slices.set(slice);
    if (r) this.setEndpoints(r.key, r.endpoints);
  }

  onEndpointSliceUpdate(_old: EndpointSliceLike | undefined, slice: EndpointSliceLike): void {
    this.onEndpointSliceAdd(slice);
  }

  onEndpointSliceDelete(slice: EndpointSliceLike): void {
    const r = this.slices.delete(slice);
    if (r) this.setEndpoints(r.key, r.endpoints);
  }
}
