/* Live supervision dashboard (电子监察): WebSocket /ws/supervision/ (bidding_ui/consumers/supervision.py)
 * through the shared stream client (stream.js: snapshot, gapless ids, one resync per gap, reconnects).
 * Each event replaces the list of its kind ("rooms", "draws", "warnings"). Times are shown in the
 * platform's time zone (format.js), never as raw ISO strings. An ES module, no build. */
import { formatWhen } from "./format.js";
import { streamUrl } from "./stream.js";
import { SupervisionStream, newRedWarnings } from "./supervision_state.js";

const root = document.getElementById("supervision");
if (root && window.WebSocket) {
  const labels = JSON.parse(document.getElementById("sv-labels").textContent);
  const connection = document.getElementById("sv-connection");
  const announce = document.getElementById("sv-announce");
  const when = (iso, precision = "minutes") => (iso ? formatWhen(iso, { precision }) || iso : "");

  const urlFor = (attribute, id) => root.getAttribute(attribute).replace(/\/0\/$/, `/${encodeURIComponent(id)}/`);

  function cell(row, content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content);
    else td.textContent = content == null ? "" : String(content);
    row.appendChild(td);
    return td;
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function time(iso, precision) {
    const node = document.createElement("time");
    node.dateTime = iso || "";
    node.textContent = when(iso, precision);
    return node;
  }

  function badge(level) {
    const span = document.createElement("span");
    span.className = `badge ${level === "red" ? "bad" : "warn"}`;
    span.textContent = labels.levels[level] || level;
    return span;
  }

  function fill(tbodyId, items, columns, render) {
    const body = document.getElementById(tbodyId);
    body.replaceChildren();
    if (!items.length) {
      const empty = document.createElement("tr");
      cell(empty, labels.none).colSpan = columns;
      body.appendChild(empty);
      return;
    }
    items.forEach((item) => body.appendChild(render(item)));
  }

  function renderWarnings(state) {
    fill("sv-warnings", state.warnings || [], 6, (w) => {
      const tr = document.createElement("tr");
      tr.className = `level-${w.level}`;
      cell(tr, badge(w.level));
      cell(tr, labels.warnings[w.kind] || w.kind);
      cell(tr, w.tender ? link(urlFor("data-tender-url", w.tender), w.tender_code || String(w.tender)) : "");
      const code = document.createElement("code");
      code.textContent = w.subject;
      cell(tr, code);
      cell(tr, w.due_at ? time(w.due_at) : "");
      cell(tr, w.detail || "");
      return tr;
    });
    document.getElementById("sv-red-count").textContent = String((state.counts || {}).red || 0);
    document.getElementById("sv-yellow-count").textContent = String((state.counts || {}).yellow || 0);
  }

  function renderRooms(state) {
    fill("sv-rooms", state.rooms || [], 5, (r) => {
      const tr = document.createElement("tr");
      const td = cell(tr, link(urlFor("data-tender-url", r.tender), r.code));
      td.appendChild(document.createTextNode(` ${r.title}`));
      cell(tr, labels.statuses[r.status] || r.status);
      const phase = (labels.phases && labels.phases[r.phase]) || r.phase || "—";
      cell(tr, r.phase_ends_at ? `${phase} (${when(r.phase_ends_at, "seconds")})` : phase);
      cell(tr, r.bid_deadline ? time(r.bid_deadline) : "");
      const links = document.createElement("span");
      links.appendChild(link(urlFor("data-replay-url", r.tender), labels.replay));
      links.appendChild(document.createTextNode(" · "));
      links.appendChild(link(urlFor("data-signals-url", r.tender), labels.signals));
      cell(tr, links);
      return tr;
    });
  }

  function renderDraws(state) {
    fill("sv-draws", state.draws || [], 7, (d) => {
      const tr = document.createElement("tr");
      cell(tr, d.draw);
      cell(tr, link(urlFor("data-tender-url", d.tender), d.code));
      cell(tr, d.lot);
      cell(tr, (labels.draw_statuses && labels.draw_statuses[d.status]) || d.status);
      cell(tr, `${d.accepted} / ${d.seats}`);
      cell(tr, d.waiting);
      cell(tr, d.evaluation_start ? time(d.evaluation_start) : "");
      return tr;
    });
  }

  function updated(state) {
    const at = state.computed_at || new Date().toISOString();
    document.getElementById("sv-updated").textContent = `${labels.updated}: ${when(at, "seconds")}`;
  }

  new SupervisionStream({
    url: streamUrl(root.getAttribute("data-ws-path")),
    backoff: 1000,
    maxBackoff: 30000,
    onState: (state, msg) => {
      if (!msg) { renderWarnings(state); renderRooms(state); renderDraws(state); }
      else if (msg.kind === "warnings") {
        renderWarnings(state);
        const fresh = newRedWarnings(state, msg.payload);
        if (fresh.length) announce.textContent = `${labels.new_red}: ${fresh.join(", ")}`;
      } else if (msg.kind === "rooms") renderRooms(state);
      else if (msg.kind === "draws") renderDraws(state);
      updated(state);
    },
    onStatus: (status) => {
      const live = status === "live";
      if (status === "connecting") return;
      connection.textContent = live ? labels.live : labels.offline;
      connection.className = `badge ${live ? "ok" : "warn"}`;
    },
  }).connect();
}
