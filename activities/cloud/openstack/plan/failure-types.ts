// The failure types the OpenStack activities throw that retrying cannot fix, for the proxies'
// nonRetryableErrorTypes. Import-free, so workflows may use it.
export const OPENSTACK_NON_RETRYABLE = [
  'OpenStackQuotaExceeded', 'OpenStackUnauthorized', 'OpenStackForbidden', 'OpenStackNotFound', 'OpenStackBadRequest', 'OpenStackConfig',
  'OpenStackInventoryMismatch', 'OpenStackServerError', 'OpenStackServerGone', 'OpenStackServerTimeout', 'SecretUnavailable',
];
