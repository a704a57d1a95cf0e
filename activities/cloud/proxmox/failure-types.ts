// Failure types of the Proxmox activities that retrying cannot fix (pure: the workflows import it
// for their retry policies). A lock timeout or a lost connection is retryable; these are not.
export const PROXMOX_NON_RETRYABLE = [
  'InvalidInput', 'SecretUnavailable', 'ProxmoxInventoryError', 'ProxmoxAuth', 'ProxmoxPermission', 'ProxmoxBadRequest',
  'ProxmoxTls', 'ProxmoxNotImplemented', 'ProxmoxTaskFailed', 'ProxmoxGuestAgentTimeout',
] as const;
