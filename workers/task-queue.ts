// The task queue Mooring's workers poll by default. On its own so the CLI can show it in --help
// without loading the connection code (and @temporalio/envconfig) behind it.
export const DEFAULT_TASK_QUEUE = 'mooring';
