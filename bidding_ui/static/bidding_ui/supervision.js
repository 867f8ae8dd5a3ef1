/* Live supervision dashboard (电子监察): WebSocket /ws/supervision/ (bidding_ui/consumers/supervision.py).
 * Snapshot on connect, then events with gapless ids; a gap asks the server to resync.
 * Each event replaces the list of its kind ("rooms", "draws", "warnings"). Plain JS, no build. */
(function () {
  "use strict";
  var root = document.getElementById("supervision");
  if (!root || !window.WebSocket) { return; }
  var labels = JSON.parse(document.getElementById("sv-labels").textContent);
  var state = { rooms: [], draws: [], warnings: [], counts: { red: 0, yellow: 0 } };
  var lastId = 0;
  var socket = null;
  var retry = 1000;
  var connection = document.getElementById("sv-connection");
  var announce = document.getElementById("sv-announce");

  function urlFor(attribute, id) {
    return root.getAttribute(attribute).replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content == null ? "" : String(content); }
    row.appendChild(td);
    return td;
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function badge(level) {
    var span = document.createElement("span");
    span.className = "badge " + (level === "red" ? "bad" : "warn");
    span.textContent = labels.levels[level] || level;
    return span;
  }

  function fill(tbodyId, items, columns, render) {
    var body = document.getElementById(tbodyId);
    while (body.firstChild) { body.removeChild(body.firstChild); }
    if (!items.length) {
      var empty = document.createElement("tr");
      var td = cell(empty, labels.none);
      td.colSpan = columns;
      body.appendChild(empty);
      return;
    }
    items.forEach(function (item) { body.appendChild(render(item)); });
  }

  function renderWarnings() {
    fill("sv-warnings", state.warnings, 6, function (w) {
      var tr = document.createElement("tr");
      tr.className = "level-" + w.level;
      cell(tr, badge(w.level));
      cell(tr, labels.warnings[w.kind] || w.kind);
      cell(tr, w.tender ? link(urlFor("data-tender-url", w.tender), w.tender_code || String(w.tender)) : "");
      var code = document.createElement("code");
      code.textContent = w.subject;
      cell(tr, code);
      cell(tr, w.due_at || "");
      cell(tr, w.detail || "");
      return tr;
    });
    document.getElementById("sv-red-count").textContent = String(state.counts.red || 0);
    document.getElementById("sv-yellow-count").textContent = String(state.counts.yellow || 0);
  }

  function renderRooms() {
    fill("sv-rooms", state.rooms, 5, function (r) {
      var tr = document.createElement("tr");
      var td = cell(tr, link(urlFor("data-tender-url", r.tender), r.code));
      td.appendChild(document.createTextNode(" " + r.title));
      cell(tr, labels.statuses[r.status] || r.status);
      cell(tr, (r.phase || "—") + (r.phase_ends_at ? " (" + r.phase_ends_at + ")" : ""));
      cell(tr, r.bid_deadline);
      var links = document.createElement("span");
      links.appendChild(link(urlFor("data-replay-url", r.tender), labels.replay));
      links.appendChild(document.createTextNode(" · "));
      links.appendChild(link(urlFor("data-signals-url", r.tender), labels.signals));
      cell(tr, links);
      return tr;
    });
  }

  function renderDraws() {
    fill("sv-draws", state.draws, 7, function (d) {
      var tr = document.createElement("tr");
      cell(tr, d.draw);
      cell(tr, link(urlFor("data-tender-url", d.tender), d.code));
      cell(tr, d.lot);
      cell(tr, d.status);
      cell(tr, d.accepted + " / " + d.seats);
      cell(tr, d.waiting);
      cell(tr, d.evaluation_start);
      return tr;
    });
  }

  function renderAll() { renderWarnings(); renderRooms(); renderDraws(); }

  function updated(at) {
    document.getElementById("sv-updated").textContent = labels.updated + ": " + (at || new Date().toISOString());
  }

  function apply(message) {
    var payload = message.payload || {};
    if (message.kind === "warnings") {
      state.warnings = payload.items || [];
      state.counts = payload.counts || state.counts;
      var fresh = (payload.added || []).concat(payload.escalated || []).filter(function (key) {
        return state.warnings.some(function (w) { return w.key === key && w.level === "red"; });
      });
      if (fresh.length) { announce.textContent = labels.new_red + ": " + fresh.join(", "); }
      renderWarnings();
    } else if (message.kind === "rooms") {
      state.rooms = payload.items || [];
      renderRooms();
    } else if (message.kind === "draws") {
      state.draws = payload.items || [];
      renderDraws();
    }
    updated(payload.computed_at);
  }

  function onMessage(event) {
    var message = JSON.parse(event.data);
    if (message.type === "snapshot") {
      lastId = message.last_id;
      state = message.state;
      renderAll();
      updated(state.computed_at);
    } else if (message.type === "event" || message.type === "redacted") {
      if (message.id <= lastId) { return; }
      if (message.id > lastId + 1) {
        socket.send(JSON.stringify({ type: "resync", since: lastId }));
        return;
      }
      lastId = message.id;
      if (message.type === "event") { apply(message); }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    socket.onopen = function () {
      retry = 1000;
      connection.textContent = labels.live;
      connection.className = "badge ok";
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      connection.textContent = labels.offline;
      connection.className = "badge warn";
      if (event.code === 4403) { return; }
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  connect();
}());
