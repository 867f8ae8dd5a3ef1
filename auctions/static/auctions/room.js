// The live bidding room: snapshot + events by gapless id (resync on a gap, fresh snapshot on
// reconnect), the countdown from the server's clock (offset measured at load and by "time" pings),
// the bid button proposing current + increment with a confirmation step.
// The reducer mirrors auctions/room.py `apply_event`.
import { _ } from "../bidding_ui/opening_common.js";

const config = JSON.parse(document.getElementById("room-config").textContent);
let state = JSON.parse(document.getElementById("room-initial").textContent);
let lastId = config.lastId;
let offset = new Date(config.serverTime).getTime() - Date.now();
const $ = (id) => document.getElementById(id);
const STATUS = {
  published: _("Notice published"), listing: _("Listing period"), timed: _("Timed bidding"),
  closed: _("Bidding closed, reserve sealed"), sold: _("Sold"), not_sold: _("Not sold"), stopped: _("Stopped"),
};

export function applyEvent(s, kind, p) {
  if (kind === "bid") {
    Object.assign(s, { price: p.amount, holder: p.number, ends_at: p.ends_at, bid_count: p.seq, next_minimum: p.next_minimum });
    s.history = (s.history || []).concat([{ seq: p.seq, number: p.number, amount: p.amount, phase: p.phase, at: p.at, ends_at: p.ends_at }]).slice(-200);
    if (s.me) s.me.holding = s.me.number === p.number;
  } else if (kind === "phase") {
    Object.assign(s, { status: p.status, ends_at: p.ends_at });
  } else if (kind === "increment") {
    s.increment = p.increment;
    if (s.holder) s.next_minimum = addMoney(s.price, p.increment);
  } else if (kind === "result") {
    Object.assign(s, { status: p.status, ends_at: null });
  }
  return s;
}

// Decimal strings added in integer cents (no float rounding).
function cents(v) { const [i, f = ""] = String(v).split("."); return BigInt(i) * 100n + BigInt((f + "00").slice(0, 2)); }
function addMoney(a, b) { const c = cents(a) + cents(b); return `${c / 100n}.${String(c % 100n).padStart(2, "0")}`; }

function money(value) {
  if (value === null || value === undefined) return "—";
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(value));
  if (!m) return String(value);
  const digits = `${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${((m[3] || "") + "00").slice(0, 2)}`;
  return (document.body.dataset.language || "").startsWith("zh") ? `${m[1]}${digits} 元` : `${m[1]}¥${digits}`;
}

function render() {
  $("status").textContent = STATUS[state.status] || state.status;
  $("price").textContent = money(state.price);
  $("holder").textContent = state.holder || "—";
  $("increment").textContent = money(state.increment);
  $("last-id").textContent = String(lastId);
  $("offset").textContent = String(Math.round(offset));
  const me = state.me;
  if (me) {
    $("me").textContent = me.number
      ? `${_("My number")}: ${me.number} · ${me.holding ? _("You hold the highest bid") : _("You do not hold the highest bid")}`
      : _("You have no bidder number yet (qualification and deposit).");
  }
  const open = state.status === "listing" || state.status === "timed";
  $("bid-controls").hidden = !(me && me.may_bid && open);
  const amount = $("bid-amount");
  if (amount && document.activeElement !== amount && $("bid-confirm").hidden) amount.value = state.next_minimum;
  const body = $("history").querySelector("tbody");
  body.replaceChildren(...(state.history || []).slice().reverse().map((h) => {
    const tr = document.createElement("tr");
    const cells = [String(h.seq), h.number];
    if (state.numbers) cells.push(state.numbers[h.number] || "—");
    cells.push(money(h.amount), h.phase, new Date(h.at).toLocaleTimeString());
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.append(td); }
    return tr;
  }));
}

function tick() {
  const el = $("countdown");
  if (!state.ends_at) { el.textContent = "—"; return; }
  const left = Math.max(0, new Date(state.ends_at).getTime() - (Date.now() + offset));
  const s = Math.floor(left / 1000);
  el.textContent = `${Math.floor(s / 3600) ? `${Math.floor(s / 3600)}:` : ""}${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

let ws = null;
let backoff = 500;
let ref = 0;
let resyncing = false;
const pending = new Map();

function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

function command(type, fields = {}) {
  const r = ++ref;
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    pending.set(r, { resolve, reject, sentAt });
    send({ type, ref: r, ...fields });
  });
}

function handle(m) {
  if (m.type === "snapshot") {
    state = m.state; lastId = m.last_id; resyncing = false; render();
  } else if (m.type === "event" || m.type === "redacted") {
    if (m.id <= lastId) return;
    if (m.id > lastId + 1) { if (!resyncing) { resyncing = true; send({ type: "resync", since: lastId }); } return; }
    resyncing = false; lastId = m.id;
    if (m.type === "event") {
      applyEvent(state, m.kind, m.payload);
      if (m.kind === "result") send({ type: "snapshot" }); // the notice (reserve, winner) changed
    }
    render();
  } else if (m.type === "ack" || m.type === "error") {
    const w = pending.get(m.ref);
    if (!w) { if (m.type === "error") $("message").textContent = m.message; return; }
    pending.delete(m.ref);
    if (m.type === "ack") w.resolve({ ...m.result, rtt: Date.now() - w.sentAt, sentAt: w.sentAt });
    else w.reject(Object.assign(new Error(m.message), { code: m.code, fields: m.fields }));
  }
}

function connect() {
  $("conn").textContent = _("connecting");
  const proto = window.location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${proto}://${window.location.host}${config.ws}`);
  ws.onopen = async () => {
    backoff = 500; $("conn").textContent = _("live");
    try { // server time offset: the answer's time at the midpoint of the round trip
      const t = await command("time");
      offset = new Date(t.server_time).getTime() - (t.sentAt + t.rtt / 2);
      render();
    } catch (err) { /* the page's initial offset stays */ }
  };
  ws.onmessage = (e) => handle(JSON.parse(e.data));
  ws.onclose = () => {
    $("conn").textContent = _("offline");
    for (const [, p] of pending) p.reject(new Error(_("connection lost")));
    pending.clear();
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 15000);
  };
}

function propose() {
  $("bid-amount").value = state.next_minimum;
  ask();
}

function ask() {
  const amount = $("bid-amount").value.trim();
  $("bid-confirm-text").textContent = `${_("Bid")} ${money(amount)}?`;
  $("bid-confirm").hidden = false;
  $("bid-yes").focus();
}

async function confirmBid() {
  $("bid-confirm").hidden = true;
  const amount = $("bid-amount").value.trim();
  try {
    const r = await command("bid", { amount, key: `${Date.now()}-${Math.random().toString(16).slice(2)}` });
    $("message").textContent = `${_("Bid accepted")}: ${money(r.amount)} (#${r.seq}, ${_("receipt")} ${r.receipt_id})`;
    $("message").classList.remove("error");
  } catch (err) {
    $("message").textContent = err.message;
    $("message").classList.add("error");
  }
}

$("bid-propose").addEventListener("click", propose);
$("bid-send").addEventListener("click", ask);
$("bid-yes").addEventListener("click", confirmBid);
$("bid-no").addEventListener("click", () => { $("bid-confirm").hidden = true; });
render();
tick();
setInterval(tick, 250);
connect();
