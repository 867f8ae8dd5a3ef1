// The one client of the platform's event streams (bidding_ui/consumers/base.py): the opening room
// (room_state.js) and live supervision (supervision.js) both use it. No DOM here; tests run it under
// Node (tests/bidding_ui/js/).
//
// Protocol: on connect the server sends {"type": "snapshot", "last_id", "state"}; then
// {"type": "event" | "redacted", "id", "kind", "payload"} with id = previous id + 1.
//   - an id at or below the last applied one is a duplicate (or covered by the snapshot): dropped;
//   - an id above last + 1 is a gap: the client asks {"type": "resync", "since": last} ONCE and
//     drops events until the gap is filled (the resync guard); if nothing fills it within
//     `resyncTimeout` ms, the next out-of-order event asks again;
//   - "redacted" events advance the id without changing the state (the viewer may not see them);
//   - {"type": "ack" | "error", "ref"} answer the commands sent with `command()`.
// The socket reconnects with exponential backoff (doubling up to `maxBackoff`), except after a
// close code in `finalCodes` (4403: not allowed), and every reconnect starts from a fresh snapshot.

export class EventStream {
  constructor({
    url, apply = () => {}, onState = () => {}, onStatus = () => {}, onReply = () => {}, WebSocketImpl,
    backoff = 500, maxBackoff = 15000, resyncTimeout = 5000, finalCodes = [4403], now = () => Date.now(),
  }) {
    this.url = url;
    this.apply = apply; // (state, message) -> void: the stream's reducer
    this.onState = onState; // (state, message | null) after a snapshot (null) or an applied event
    this.onStatus = onStatus; // "connecting" | "live" | "offline" | "refused"
    this.onReply = onReply;
    this.WS = WebSocketImpl || globalThis.WebSocket;
    this.state = null;
    this.lastId = 0;
    this.ref = 0;
    this.pending = new Map();
    this.initialBackoff = backoff;
    this.backoff = backoff;
    this.maxBackoff = maxBackoff;
    this.resyncTimeout = resyncTimeout;
    this.finalCodes = new Set(finalCodes);
    this.now = now;
    this.closed = false;
    this.resyncing = false;
    this.resyncAt = 0;
    this.sent = 0; // resync requests sent (for tests and diagnostics)
  }

  connect() {
    this.onStatus("connecting");
    const ws = new this.WS(this.url);
    this.ws = ws;
    ws.onopen = () => { this.backoff = this.initialBackoff; this.onStatus("live"); };
    ws.onmessage = (e) => this.handle(JSON.parse(e.data));
    ws.onclose = (event) => {
      for (const [, p] of this.pending) p.reject(new Error("connection lost"));
      this.pending.clear();
      this.resyncing = false;
      if (event && this.finalCodes.has(event.code)) { this.closed = true; this.onStatus("refused"); return; }
      this.onStatus("offline");
      if (!this.closed) setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
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
      if (msg.id > this.lastId + 1) { // a gap: ask once for everything after the last applied id
        if (!this.resyncing || this.now() - this.resyncAt >= this.resyncTimeout) {
          this.resyncing = true;
          this.resyncAt = this.now();
          this.sent += 1;
          this.send({ type: "resync", since: this.lastId });
        }
        return;
      }
      this.resyncing = false;
      this.lastId = msg.id;
      if (msg.type === "event") this.apply(this.state, msg);
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

// The stream's URL on this page's host (ws: or wss: as the page).
export function streamUrl(path) {
  const scheme = globalThis.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${globalThis.location.host}${path}`;
}
