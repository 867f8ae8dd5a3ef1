/* Audit trail replay (bidding_ui/templates/audit/replay.html). Plain JS, no build.
 * Without JS every event and step button is a link that reloads the page at that event.
 * With JS: the state panel is fetched (?partial=state) and swapped in place, the URL follows,
 * and the keyboard steps through the (filtered) timeline: ←/↑ previous, →/↓ next, Home, End. */
(function () {
  "use strict";
  var root = document.getElementById("replay");
  if (!root || !window.fetch) { return; }
  var timeline = root.querySelector("[data-timeline]");
  var panel = document.getElementById("replay-state");
  var live = document.getElementById("replay-live");
  var pending = null;

  function items() { return Array.prototype.slice.call(timeline.querySelectorAll("a[data-seq]")); }

  function currentIndex() {
    var list = items();
    for (var i = 0; i < list.length; i += 1) {
      if (list[i].getAttribute("aria-current") === "step") { return i; }
    }
    return list.length - 1;
  }

  function updateStepLinks(index) {
    var list = items();
    if (!list.length) { return; }
    var targets = {
      first: list[0],
      previous: list[Math.max(0, index - 1)],
      next: list[Math.min(list.length - 1, index + 1)],
      last: list[list.length - 1]
    };
    Object.keys(targets).forEach(function (step) {
      var button = root.querySelector('[data-step="' + step + '"]');
      if (button) {
        button.href = targets[step].href;
        var disabled = (step === "first" || step === "previous") ? index === 0 : index === list.length - 1;
        button.setAttribute("aria-disabled", disabled ? "true" : "false");
      }
    });
  }

  function select(link, focusLink) {
    var list = items();
    var index = list.indexOf(link);
    if (index < 0) { return; }
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("partial", "state");
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(url.toString(), { credentials: "same-origin", signal: pending.signal, headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        panel.innerHTML = html; // rendered by the server's template (auto-escaped)
        list.forEach(function (item) { item.removeAttribute("aria-current"); });
        link.setAttribute("aria-current", "step");
        updateStepLinks(index);
        window.history.replaceState(null, "", link.href);
        live.textContent = link.getAttribute("data-label");
        if (focusLink) { link.focus(); } else { link.scrollIntoView({ block: "nearest" }); }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { window.location.href = link.href; }
      });
  }

  function step(direction, focusLink) {
    var list = items();
    if (!list.length) { return; }
    var index = currentIndex();
    var target = { first: 0, previous: Math.max(0, index - 1), next: Math.min(list.length - 1, index + 1),
                   last: list.length - 1 }[direction];
    if (target !== index || direction === "first" || direction === "last") { select(list[target], focusLink); }
  }

  timeline.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-seq]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    event.preventDefault();
    select(link, true);
  });

  root.querySelectorAll("[data-step]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      event.preventDefault();
      step(button.getAttribute("data-step"), false);
    });
  });

  var keys = { ArrowLeft: "previous", ArrowUp: "previous", ArrowRight: "next", ArrowDown: "next",
               Home: "first", End: "last" };
  root.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var direction = keys[event.key];
    if (!direction) { return; }
    event.preventDefault();
    step(direction, timeline.contains(event.target));
  });

  updateStepLinks(currentIndex());
}());
