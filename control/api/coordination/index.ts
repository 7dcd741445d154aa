// coordination.k8s.io/v1: Lease.
export { LEASE_STRATEGIES, Lease, LeaseSpec, leaseKind, parseLease, validateLease, validateLeaseSpec } from './lease.js';
