// Feeds a snapshot and messages (stdin JSON) to RoomStream with a fake WebSocket; prints the
// final state, the last id and what the client sent (resync requests) as JSON.
import { RoomStream } from "../../../bidding_ui/static/bidding_ui/room_state.js";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => { data += c; });
  process.stdin.on("end", () => resolve(data));
}));
const sent = [];
class FakeSocket {
  constructor() { this.readyState = 1; }
  send(text) { sent.push(JSON.parse(text)); }
  close() {}
}
const stream = new RoomStream({ url: "ws://test/", WebSocketImpl: FakeSocket }).connect();
for (const message of input.messages) stream.ws.onmessage({ data: JSON.stringify(message) });
process.stdout.write(JSON.stringify({ state: stream.state, lastId: stream.lastId, sent }));
