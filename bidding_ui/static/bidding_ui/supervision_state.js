// Live supervision's client state (电子监察, bidding_ui/consumers/supervision.py): the reducer on the
// shared stream client (stream.js). No DOM here (supervision.js renders); tests run it under Node.
//
// Each event replaces the list of its kind: "warnings" (items + counts), "rooms", "draws".
import { EventStream } from "./stream.js";

export function applySupervisionEvent(state, kind, payload) {
  const p = payload || {};
  if (kind === "warnings") {
    state.warnings = p.items || [];
    state.counts = p.counts || state.counts;
  } else if (kind === "rooms") {
    state.rooms = p.items || [];
  } else if (kind === "draws") {
    state.draws = p.items || [];
  }
  if (p.computed_at) state.computed_at = p.computed_at;
  return state;
}

// Keys of warnings that an event added or escalated and that are red now (announced to screen readers).
export function newRedWarnings(state, payload) {
  const p = payload || {};
  return (p.added || []).concat(p.escalated || []).filter(
    (key) => (state.warnings || []).some((w) => w.key === key && w.level === "red"));
}

export class SupervisionStream extends EventStream {
  constructor(options) {
    super({ ...options, apply: (state, msg) => applySupervisionEvent(state, msg.kind, msg.payload) });
  }
}
