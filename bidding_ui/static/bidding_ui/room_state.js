// The opening room's client state: snapshot + events applied by id, gap detection and resync,
// commands with acks, reconnects. No DOM here (room.js renders); tests run it under Node.
//
// The reducer is the same as trading/opening/room.py `apply_event`:
//   phase | room.opened | record.published   -> state.update(payload)
//   lot | bid | readout.row | signin | confirmation | objection | fallback -> state[section][key] = entry
//   private                                  -> state.private[org][key] = entry

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

export class RoomStream {
  constructor({ url, onState = () => {}, onStatus = () => {}, onReply = () => {}, WebSocketImpl }) {
    this.url = url;
    this.onState = onState;
    this.onStatus = onStatus;
    this.onReply = onReply;
    this.WS = WebSocketImpl || globalThis.WebSocket;
    this.state = null;
    this.lastId = 0;
    this.ref = 0;
    this.pending = new Map();
    this.backoff = 500;
    this.closed = false;
    this.resyncing = false;
  }

  connect() {
    this.onStatus("connecting");
    const ws = new this.WS(this.url);
    this.ws = ws;
    ws.onopen = () => { this.backoff = 500; this.onStatus("live"); };
    ws.onmessage = (e) => this.handle(JSON.parse(e.data));
    ws.onclose = () => {
      this.onStatus("offline");
      for (const [, p] of this.pending) p.reject(new Error("connection lost"));
      this.pending.clear();
      if (!this.closed) setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 15000);
    };
    return this;
  }

  close() { this.closed = true; if (this.ws) this.ws.close(); }

  handle(msg) {
    if (msg.type === "snapshot") {
      this.state = msg.state;
      this.lastId = msg.last_id;
      this.resyncing = false;
      this.onState(this.state, null);
    } else if (msg.type === "event" || msg.type === "redacted") {
      if (this.state === null || msg.id <= this.lastId) return; // duplicate, or covered by the snapshot
      if (msg.id > this.lastId + 1) { // a gap: ask for everything after the last applied id
        if (!this.resyncing) { this.resyncing = true; this.send({ type: "resync", since: this.lastId }); }
        return;
      }
      this.resyncing = false;
      this.lastId = msg.id;
      if (msg.type === "event") applyEvent(this.state, msg.kind, msg.payload);
      this.onState(this.state, msg);
    } else if (msg.type === "ack" || msg.type === "error") {
      const waiting = this.pending.get(msg.ref);
      if (waiting) {
        this.pending.delete(msg.ref);
        if (msg.type === "ack") waiting.resolve(msg.result);
        else waiting.reject(Object.assign(new Error(msg.message), { code: msg.code }));
      } else {
        this.onReply(msg);
      }
    }
  }

  send(message) { this.ws.send(JSON.stringify(message)); }

  command(type, fields = {}) {
    const ref = ++this.ref;
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject });
      this.send({ type, ref, ...fields });
    });
  }
}
