/* The fixed-price drawing room: WebSocket /ws/fixed-price/<id>/ (smallworks/consumers.py).
 * Snapshot on connect, then events with gapless ids; a gap asks the server to resync. Anyone may watch. */
(function () {
  "use strict";
  var root = document.getElementById("fp-room");
  if (!root || !window.WebSocket) { return; }
  var label = function (name) { return root.getAttribute("data-l-" + name) || name; };
  var connection = document.getElementById("fp-connection");
  var lastId = 0;
  var socket = null;
  var retry = 1000;

  function text(id, value) {
    var node = document.getElementById(id);
    if (node && value !== undefined && value !== null && value !== "") { node.textContent = value; }
  }

  function list(id, items) {
    var node = document.getElementById(id);
    if (!node) { return; }
    node.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item;
      node.appendChild(li);
    });
  }

  function log(line) {
    var node = document.getElementById("fp-events");
    var li = document.createElement("li");
    li.textContent = line;
    node.appendChild(li);
  }

  function render(state) {
    text("fp-room-status", state.status_label);
    if (state.committed) {
      text("fp-seed-sha", state.committed.seed_sha256);
      text("fp-entropy", state.committed.entropy);
      list("fp-pool", state.committed.pool);
    }
    text("fp-seed", state.seed);
    list("fp-picks", state.picks.map(function (p) {
      return p.organisation + " · " + p.status_label + (p.mine ? " (" + label("you") + ")" : "");
    }));
    if (state.excluded) {
      list("fp-excluded", state.excluded.map(function (x) { return x.name + " · " + x.reason + " · " + x.detail; }));
    }
  }

  function apply(message) {
    var p = message.payload || {};
    var kind = message.kind;
    if (kind === "committed") {
      text("fp-seed-sha", p.seed_sha256);
      text("fp-entropy", p.entropy);
      list("fp-pool", p.pool || []);
    } else if (kind === "pick") {
      var picks = document.getElementById("fp-picks");
      var li = document.createElement("li");
      li.setAttribute("data-position", p.position);
      li.textContent = p.organisation + " · " + (p.drawn_as === "drawn" ? label("drawn") : label("reserve") + " " + p.position);
      picks.appendChild(li);
    } else if (kind === "drawn") {
      text("fp-seed", p.seed);
    } else if (kind === "exclusions") {
      list("fp-excluded", (p.excluded || []).map(function (x) { return x.name + " · " + x.reason + " · " + x.detail; }));
    }
    log((message.at || "") + " " + kind + (p.organisation ? ": " + p.organisation : ""));
    if (["confirmed", "lapsed", "refused", "called", "contracted", "failed", "review_published"].indexOf(kind) >= 0) {
      socket.send(JSON.stringify({ type: "snapshot" }));
    }
  }

  function onMessage(event) {
    var message = JSON.parse(event.data);
    if (message.type === "snapshot") {
      lastId = message.last_id;
      render(message.state);
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
      connection.textContent = label("live");
      connection.className = "badge ok";
      root.setAttribute("data-live", "1");
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      connection.textContent = label("offline");
      connection.className = "badge warn";
      root.removeAttribute("data-live");
      if (event.code === 4403) { return; }
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  connect();
}());
