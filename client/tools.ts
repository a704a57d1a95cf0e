// The CLI's and the lab's way to the local tool finder, which lives below both in
// activities/local/tools.ts (activities need it too and must not import from client/).
export * from '../activities/local/tools.js';
