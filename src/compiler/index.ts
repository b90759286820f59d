export * from './cookies.js';
export { PRIORITY } from './priorities.js';
export type { CompileStep, Emit, FlowSpec } from './compile-step.js';
export { createFabricContext, type FabricContext } from './fabric-context.js';
export { ingressStep } from './compile-ingress.js';
export { arpStep } from './compile-arp.js';
export { forwardStep } from './compile-forward.js';
export * from './compile-forwarding.js';
