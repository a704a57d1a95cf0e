// Ports picked by the kernel on loopback, so concurrent test runs never collide on fixed numbers.
export { freePorts as freeLoopbackPorts } from '../../lab/ports.js';
