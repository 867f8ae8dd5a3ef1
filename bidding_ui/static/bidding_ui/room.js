// The opening room page: renders the room state kept by RoomStream (room_state.js) and sends the
// room commands. Bidders unwrap their DEK locally from the stored envelope header with their key
// file (sbe1.js) and release it; custodians decrypt their share locally in the fallback phase.
import * as sbe1 from "./sbe1.js";
import { _, readKey, say } from "./opening_common.js";
import { RoomStream } from "./room_state.js";
import { formatMoney, formatWhen } from "./format.js";
import { streamUrl } from "./stream.js";

const config = JSON.parse(document.getElementById("room-config").textContent);
const initial = JSON.parse(document.getElementById("room-initial").textContent);
const offset = new Date(config.serverTime).getTime() - Date.now();
const $ = (id) => document.getElementById(id);
const message = $("message");
const PHASES = {
  waiting: _("Waiting for the bid deadline"), signing_in: _("Sign-in"), decrypting: _("Decryption"),
  fallback: _("Custodian decryption"), reading_out: _("Read-out"), confirming: _("Confirmation"),
  objections: _("Objections"), closed: _("Closed"), failed: _("Failed (fewer than 3 bids)"),
};
// The stream's connection status (stream.js) in the page's language: literal gettext calls, so the
// catalogue has them (a status passed to _() as a variable would stay English).
const CONNECTION = {
  connecting: _("connecting"), live: _("live"), offline: _("offline, reconnecting…"), refused: _("not allowed"),
};
const LABELS = config.labels || {};
const MONEY_ITEMS = new Set(config.moneyItems || []);
let state = initial;

// Machine values ("decrypted", "paid") shown as the server's translated labels.
function label(group, value) {
  return (value && LABELS[group] && LABELS[group][value]) || value || "—";
}

// Amounts through the platform's one formatter (format.js, the |money rule), in the page's language;
// a value that is not a decimal is shown as it is.
function readoutCell(key, value) {
  if (value === undefined || value === null || value === "") return "—";
  return MONEY_ITEMS.has(key) ? (formatMoney(value, { lang: config.lang }) || String(value)) : value;
}

// Times in the platform's time zone (China Standard Time), not the browser's.
const at = (iso) => formatWhen(iso, { precision: "time", lang: config.lang }) || "—";

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function fill(container, nodes) { container.replaceChildren(...nodes); }

function myBids() {
  return (state.private && config.org && state.private[config.org]) || {};
}

// What this viewer is offered in the room's current phase: the phase table (trading/phases.py, OPENING)
// the page was rendered with, so a control never outlives its phase (a closed room offers nothing).
function offered(action) {
  return ((config.actions || {})[state.state] || []).includes(action);
}

function render() {
  $("phase").textContent = PHASES[state.state] || state.state;
  const mine = myBids();
  const hasBids = Object.keys(mine).length > 0;
  $("host-controls").hidden = !offered("advance");
  for (const cmd of ["sign_in", "confirm"]) {
    const button = document.querySelector(`#bidder-controls [data-cmd="${cmd}"]`);
    button.hidden = !(hasBids && offered(cmd));
    button.disabled = button.hidden;
    button.style.display = button.hidden ? "none" : "";  // .button sets display, which beats [hidden]
  }
  $("bidder-controls").hidden = !(hasBids && (offered("sign_in") || offered("confirm")));
  $("my-bids").hidden = !hasBids;
  $("dek-keys").hidden = !offered("release_dek");
  $("dek-keys").disabled = !offered("release_dek");
  $("custodian").hidden = !offered("submit_share");
  $("objection-form").hidden = !hasBids || !offered("raise_objection");
  fill($("signins"), Object.values(state.signins || {}).map((s) => el("li", `${s.name} — ${at(s.at)}`)));
  fill($("bids"), Object.entries(state.bids || {}).map(([id, b]) => {
    const li = el("li", `${_("Lot")} ${b.lot_number} · ${b.bidder_name}: ${label("status", b.status)}${b.outcome ? ` (${label("outcome", b.outcome)})` : ""}`);
    if (offered("mark_fallback") && b.status === "pending") {
      const button = el("button", _("Not the bidder's fault: hand to custodians"), { type: "button", class: "link" });
      button.addEventListener("click", () => {
        const reason = window.prompt(_("Why could this bid not be decrypted (not the bidder's fault)?"));
        if (reason) run("mark_fallback", { bid: id, reason });
      });
      li.append(" ", button);
    }
    return li;
  }));
  fill($("fallback"), Object.values(state.fallback || {}).filter((f) => f.bids || f.released.length).map(
    (f) => el("p", `${_("Custodian shares")}: ${f.released.length}/${f.threshold} (${f.released.join(", ")}) · ${_("bids waiting")}: ${f.bids}`)));
  const items = (state.tender.readout_items || []).map((i) => i.key);
  fill(document.querySelector("#readout tbody"), Object.entries(state.readout || {}).map(([, row]) => {
    const tr = el("tr");
    const confirmation = (state.confirmations || {})[String(row.bidder)];
    tr.append(el("td", row.lot_number), el("td", row.bidder_name),
      ...items.map((k) => el("td", readoutCell(k, row.items && row.items[k]))),
      el("td", row.outcome ? `${label("status", row.status)} (${label("outcome", row.outcome)})` : label("status", row.status)),
      el("td", label("deposit", row.deposit)), el("td", confirmation ? label("confirmation", confirmation.kind) : "—"));
    return tr;
  }));
  fill($("objections"), Object.entries(state.objections || {}).map(([id, o]) => {
    const li = el("li");
    li.append(el("strong", o.org_name), `: ${o.text}`);
    if (o.answer) li.append(el("br"), `${_("Answer")}: ${o.answer}`);
    else if (offered("answer_objection")) {
      const button = el("button", _("Answer"), { type: "button", class: "link" });
      button.addEventListener("click", () => {
        const answer = window.prompt(_("Your answer (recorded in the opening record)"));
        if (answer) run("answer_objection", { objection: Number(id), answer });
      });
      li.append(" ", button);
    }
    return li;
  }));
  fill($("my-bid-list"), Object.entries(mine).map(([id, b]) => {
    const li = el("li", `${_("Lot")} ${b.lot_number} · SHA-256 ${b.envelope_sha256.slice(0, 16)}… · ${label("status", b.status)}`
      + (b.last_error ? ` · ${b.last_error}` : ""));
    if (offered("release_dek") && (b.status === "pending" || b.status === "fallback")) {
      const button = el("button", _("Decrypt and release"), { type: "button", class: "button" });
      button.addEventListener("click", () => releaseDek(id, b));
      li.append(" ", button);
    }
    return li;
  }));
  $("last-id").textContent = stream.state ? stream.lastId : config.lastId;  // the page's own snapshot until the socket's
}

async function run(type, fields = {}) {
  try {
    const result = await stream.command(type, fields);
    const phase = result && result.state ? ` (${PHASES[result.state] || result.state})` : "";
    say(message, `${_("done")}${phase}`);
  } catch (err) {
    say(message, err.message, true);
  }
}

async function releaseDek(bidId, entry) {
  try {
    const key = await readKey($("dec-keyfile"), $("dec-password"), sbe1);
    const response = await fetch(entry.header_url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const dek = await sbe1.unwrapDek(new Uint8Array(await response.arrayBuffer()), key, { kind: "bidder" });
    await run("release_dek", { bid: bidId, dek: sbe1.b64encode(dek) });
  } catch (err) {
    say(message, err.message, true);
  }
}

async function releaseShare() {
  try {
    const key = await readKey($("cust-keyfile"), $("cust-password"), sbe1);
    const response = await fetch(config.sharesUrl, { credentials: "same-origin" });
    const shares = await response.json();
    if (!shares.length) throw new Error(_("You hold no share of this tender's opening keys."));
    for (const share of shares) {
      const released = await sbe1.decryptShare(share.container, key);
      await run("submit_share", { share: released.json });
    }
  } catch (err) {
    say(message, err.message, true);
  }
}

function tick() {
  const ends = state.phase_ends_at ? new Date(state.phase_ends_at).getTime() : null;
  if (!ends) { $("countdown").textContent = "—"; return; }
  const left = Math.max(0, Math.round((ends - (Date.now() + offset)) / 1000));
  const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
  $("countdown").textContent = `${h ? `${h}:` : ""}${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  if (left === 0 && !tick.asked) { tick.asked = true; setTimeout(() => { stream.send({ type: "snapshot" }); tick.asked = false; }, 3000); }
}

const stream = new RoomStream({
  url: streamUrl(config.ws),
  onState: (s) => { state = s; render(); },
  onStatus: (s) => { $("conn").textContent = CONNECTION[s] || s; },
}).connect();

document.querySelectorAll("[data-cmd]").forEach((b) => b.addEventListener("click", () => run(b.dataset.cmd)));
$("release-share").addEventListener("click", releaseShare);
$("objection-form").addEventListener("submit", (e) => {
  e.preventDefault();
  run("raise_objection", { text: $("objection-text").value });
  $("objection-text").value = "";
});
render();
setInterval(tick, 1000);
