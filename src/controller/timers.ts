/**
 * Timers the controller's services take as components, so tests can drive time: a handle is whatever
 * the injected setTimeout/setInterval returned (Node's Timeout object by default), given back to clear it.
 */
export type TimerHandle = unknown;
