// Drives a stream client (stdin JSON: {"client": "room" | "supervision", "messages": [...],
// "clock": [ms per message], "close": code}) with a fake WebSocket; prints the final state, the last
// id, what the client sent and the statuses it reported, as JSON.
import { RoomStream } from "../../../bidding_ui/static/bidding_ui/room_state.js";
import { SupervisionStream } from "../../../bidding_ui/static/bidding_ui/supervision_state.js";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => { data += c; });
  process.stdin.on("end", () => resolve(data));
}));
const sent = [];
const statuses = [];
let connections = 0;
class FakeSocket {
  constructor() { this.readyState = 1; connections += 1; }
  send(text) { sent.push(JSON.parse(text)); }
  close() {}
}
let now = 0;
const Client = input.client === "supervision" ? SupervisionStream : RoomStream;
const stream = new Client({
  url: "ws://test/", WebSocketImpl: FakeSocket, now: () => now, backoff: 1,
  onStatus: (s) => statuses.push(s),
}).connect();
input.messages.forEach((message, i) => {
  now = (input.clock || [])[i] ?? now;
  stream.ws.onmessage({ data: JSON.stringify(message) });
});
if (input.close) stream.ws.onclose({ code: input.close });
await new Promise((resolve) => { setTimeout(resolve, 20); });
stream.closed = true;
process.stdout.write(JSON.stringify({ state: stream.state, lastId: stream.lastId, sent, statuses, connections }));
