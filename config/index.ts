export { Inventory, SecretRef, Node } from './schema.js';
export type { InventoryInput, InventoryNode } from './schema.js';
export { loadInventory, parseInventory, InventoryError, formatPath } from './load.js';
export type { InventoryProblem } from './load.js';
export * from './hosts.js';
