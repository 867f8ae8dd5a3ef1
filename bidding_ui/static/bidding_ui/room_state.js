// The opening room's client state: the room reducer on the shared stream client (stream.js).
// No DOM here (room.js renders); tests run it under Node.
//
// The reducer is the same as trading/opening/room.py `apply_event`:
//   phase | room.opened | record.published   -> state.update(payload)
//   lot | bid | readout.row | signin | confirmation | objection | fallback -> state[section][key] = entry
//   private                                  -> state.private[org][key] = entry

import { EventStream } from "./stream.js";

export const SECTION_OF = {
  lot: "lots", bid: "bids", "readout.row": "readout", signin: "signins", confirmation: "confirmations",
  objection: "objections", fallback: "fallback",
};

export function applyEvent(state, kind, payload) {
  if (kind === "phase" || kind === "room.opened" || kind === "record.published") {
    Object.assign(state, payload);
  } else if (kind in SECTION_OF) {
    const section = SECTION_OF[kind];
    state[section] = state[section] || {};
    state[section][String(payload.key)] = payload.entry;
  } else if (kind === "private") {
    state.private = state.private || {};
    const org = String(payload.org);
    state.private[org] = state.private[org] || {};
    state.private[org][String(payload.key)] = payload.entry;
  }
  return state;
}

// The room's stream: the shared client (stream.js: snapshot, gapless ids, resync guard, reconnects,
// commands with acks) with the room reducer.
export class RoomStream extends EventStream {
  constructor(options) {
    super({ ...options, apply: (state, msg) => applyEvent(state, msg.kind, msg.payload) });
  }
}
