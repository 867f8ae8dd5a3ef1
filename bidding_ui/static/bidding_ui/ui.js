// Shared behaviour of every page (docs/ui.md): plain JS, no build step, progressive
// enhancement only — every page works without it. Loaded with `defer` by base.html after
// Django's JavaScript catalog (/jsi18n/), so gettext() gives the page's language.
//
//   <time data-countdown="ISO">            live countdown from the server's clock (body[data-server-now])
//   <table data-filter data-page-size=20>   search box and client-side paging for long tables
//   <form data-upload-progress>             upload with a progress bar (XMLHttpRequest), then show the result page
//   <form data-confirm="Really?">           ask before submitting (also on a submit button)
//   .nav-toggle                             the phone-width menu button
//
// window.ptradeUI exposes the helpers for page scripts: setProgress, formatDuration,
// announce, serverNow, refreshCountdowns. Money and times in page scripts: format.js (an ES module).
(function () {
  "use strict";

  // Named gettext/ngettext so that `makemessages -d djangojs` finds the strings.
  function gettext(s) { return window.gettext ? window.gettext(s) : s; }
  function ngettext(s, p, n) { return window.ngettext ? window.ngettext(s, p, n) : (n === 1 ? s : p); }
  function interpolate(fmt, obj) {
    return fmt.replace(/%\(\w+\)s/g, function (m) { return String(obj[m.slice(2, -2)]); });
  }

  // --- server clock ----------------------------------------------------------------------------
  var serverAtLoad = Date.parse(document.body.getAttribute("data-server-now") || "");
  var offset = isNaN(serverAtLoad) ? 0 : serverAtLoad - Date.now(); // server minus client, ms
  function serverNow() { return Date.now() + offset; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function formatDuration(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var days = Math.floor(total / 86400);
    var rest = total % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" + pad(rest % 60);
    if (!days) { return clock; }
    return interpolate(ngettext("%(days)s day", "%(days)s days", days), { days: days }) + " " + clock;
  }

  // --- live region ------------------------------------------------------------------------------
  var live;
  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      live.setAttribute("role", "status");
      document.body.appendChild(live);
    }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // --- countdowns -------------------------------------------------------------------------------
  function refreshCountdowns() {
    var now = serverNow();
    var nodes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var due = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(due)) { continue; }
      var left = (due - now) / 1000;
      if (left <= 0) {
        if (!el.classList.contains("passed") || el.getAttribute("data-fired") !== "1") {
          el.textContent = el.getAttribute("data-passed-text") || gettext("deadline passed");
          el.classList.add("passed");
          el.classList.remove("soon");
          el.setAttribute("data-fired", "1");
          el.dispatchEvent(new CustomEvent("ptrade:deadline", { bubbles: true }));
        }
      } else {
        el.textContent = formatDuration(left);
        el.classList.toggle("soon", left < 3600);
        el.classList.remove("passed");
        el.removeAttribute("data-fired");
      }
    }
  }

  // --- tables: filter and paging ------------------------------------------------------------------
  var tableCount = 0;
  function enhanceTable(table) {
    var body = table.tBodies[0];
    if (!body || table.getAttribute("data-enhanced")) { return; }
    table.setAttribute("data-enhanced", "1");
    tableCount += 1;
    var id = table.id || ("table-" + tableCount);
    table.id = id;
    var pageSize = parseInt(table.getAttribute("data-page-size") || "0", 10) || 0;
    var rows = Array.prototype.slice.call(body.rows);
    var wrap = table.closest(".table-wrap") || table;
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var status = document.createElement("span");
    status.className = "muted";
    status.setAttribute("aria-live", "polite");
    status.id = id + "-status";
    var input = null;
    if (table.hasAttribute("data-filter")) {
      var label = document.createElement("label");
      label.setAttribute("for", id + "-filter");
      label.textContent = gettext("Filter rows");
      input = document.createElement("input");
      input.type = "search";
      input.id = id + "-filter";
      input.setAttribute("aria-controls", id);
      input.setAttribute("aria-describedby", status.id);
      tools.appendChild(label);
      tools.appendChild(input);
    }
    tools.appendChild(status);
    wrap.parentNode.insertBefore(tools, wrap);
    var pager = null, prev = null, next = null, where = null;
    if (pageSize) {
      pager = document.createElement("nav");
      pager.className = "pager";
      pager.setAttribute("aria-label", gettext("Table pages"));
      prev = document.createElement("button");
      prev.type = "button";
      prev.className = "secondary";
      prev.textContent = gettext("Previous");
      next = document.createElement("button");
      next.type = "button";
      next.className = "secondary";
      next.textContent = gettext("Next");
      where = document.createElement("span");
      pager.appendChild(prev);
      pager.appendChild(where);
      pager.appendChild(next);
      wrap.parentNode.insertBefore(pager, wrap.nextSibling);
    }
    var page = 0;
    function render() {
      var q = input ? input.value.trim().toLowerCase() : "";
      var matching = rows.filter(function (r) { return !q || r.textContent.toLowerCase().indexOf(q) !== -1; });
      var pages = pageSize ? Math.max(1, Math.ceil(matching.length / pageSize)) : 1;
      page = Math.min(page, pages - 1);
      rows.forEach(function (r) { r.hidden = true; });
      matching.forEach(function (r, i) {
        r.hidden = pageSize ? (i < page * pageSize || i >= (page + 1) * pageSize) : false;
      });
      status.textContent = interpolate(ngettext("%(n)s row", "%(n)s rows", matching.length), { n: matching.length });
      if (pager) {
        pager.hidden = pages < 2;
        where.textContent = interpolate(gettext("Page %(n)s of %(total)s"), { n: page + 1, total: pages });
        prev.disabled = page === 0;
        next.disabled = page >= pages - 1;
      }
    }
    if (input) { input.addEventListener("input", function () { page = 0; render(); }); }
    if (pager) {
      prev.addEventListener("click", function () { page -= 1; render(); });
      next.addEventListener("click", function () { page += 1; render(); });
    }
    render();
  }

  // --- progress -------------------------------------------------------------------------------------
  function setProgress(progressEl, done, total, text) {
    if (!progressEl) { return; }
    if (total) {
      progressEl.max = total;
      progressEl.value = done;
    } else {
      progressEl.removeAttribute("value"); // indeterminate
    }
    var out = progressEl.parentNode && progressEl.parentNode.querySelector(".progress-text");
    var pct = total ? Math.round((done * 100) / total) : null;
    if (out) { out.textContent = text || (pct === null ? "" : pct + "%"); }
  }

  function uploadWithProgress(form, event, submitter) {
    if (!window.XMLHttpRequest || !window.FormData) { return; }
    event.preventDefault();
    var box = form.querySelector(".upload-status");
    if (!box) {
      box = document.createElement("div");
      box.className = "upload-status progress";
      box.setAttribute("role", "status");
      box.innerHTML = '<progress max="100" value="0"></progress><span class="progress-text"></span>';
      form.appendChild(box);
    }
    var bar = box.querySelector("progress");
    bar.setAttribute("aria-label", gettext("Upload progress"));
    var buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    var xhr = new XMLHttpRequest();
    xhr.open((form.getAttribute("method") || "post").toUpperCase(), form.action || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      setProgress(bar, e.loaded, e.lengthComputable ? e.total : 0);
    });
    xhr.upload.addEventListener("load", function () {
      setProgress(bar, 1, 1, gettext("Uploaded; the server is checking the file…"));
    });
    xhr.addEventListener("load", function () {
      // Show the page the server answered with (after its redirect), as a normal submission would.
      var html = xhr.responseText;
      var url = xhr.responseURL || window.location.href;
      if (url !== window.location.href) { window.history.replaceState(null, "", url); }
      document.open();
      document.write(html);
      document.close();
    });
    xhr.addEventListener("error", function () {
      buttons.forEach(function (b) { b.disabled = false; });
      setProgress(bar, 0, 1, gettext("The upload failed; check the connection and try again."));
      announce(gettext("The upload failed; check the connection and try again."));
    });
    var data;
    try { data = submitter ? new FormData(form, submitter) : new FormData(form); } catch (e) { data = new FormData(form); }
    xhr.send(data);
  }

  // --- wiring -----------------------------------------------------------------------------------------
  function init() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    refreshCountdowns();
    if (document.querySelector("[data-countdown]")) { window.setInterval(refreshCountdowns, 1000); }
    document.querySelectorAll("table[data-filter], table[data-page-size]").forEach(enhanceTable);
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var submitter = event.submitter;
      var question = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
      if (form.hasAttribute("data-upload-progress") && !event.defaultPrevented) { uploadWithProgress(form, event, submitter); }
    });
  }

  window.ptradeUI = {
    serverNow: serverNow,
    formatDuration: formatDuration,
    setProgress: setProgress,
    announce: announce,
    refreshCountdowns: refreshCountdowns,
    enhanceTable: enhanceTable,
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
