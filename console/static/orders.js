// The orders page (督办). The server decides, the browser paints: the list
// comes from the dispatch API already ordered (overdue first) with each
// order's timing and the actions the caller may take ("can"); the issue
// form comes filled by the server. Every string goes into textContent.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function parsed(id) { return JSON.parse($(id).textContent); }
  var T = parsed("orders-dict");
  var page = parsed("orders-data");
  var csrf = "";
  var current = null; // the order shown in the detail panel
  var next = "";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function word(key, fallback) { return Object.prototype.hasOwnProperty.call(T, key) ? T[key] : fallback; }
  function when(s) { s = s || ""; return s.length < 16 ? s : s.slice(0, 10) + " " + s.slice(11, 16); }
  function showError(msg) { var e = $("error"); e.hidden = !msg; e.textContent = msg ? T.error + ": " + msg : ""; }

  function call(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf;
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      return res.json().then(function (b) {
        if (!res.ok) throw new Error(b.error || res.statusText);
        return b;
      });
    });
  }

  // --- the list --------------------------------------------------------------
  function filters() {
    var q = new URLSearchParams();
    var region = $("f-region").value.trim() || page.region;
    q.set("region", region);
    if ($("f-state").value) q.set("state", $("f-state").value);
    if ($("f-overdue").checked) q.set("overdue", "1");
    if ($("f-dept").value.trim()) q.set("dept", $("f-dept").value.trim());
    if ($("f-q").value.trim()) q.set("q", $("f-q").value.trim());
    return q;
  }
  function unitName(o) { return (o.unit_name || o.unit.region) + (o.unit.dept ? " · " + o.unit.dept : ""); }

  function row(o) {
    var tr = el("tr", { "class": "t-" + o.timing, "data-id": o.id, "data-state": o.state, "data-timing": o.timing });
    tr.appendChild(el("td", { "class": "l" }, o.id));
    tr.appendChild(el("td", { "class": "l" }, unitName(o)));
    tr.appendChild(el("td", { "class": "l" }, o.title));
    tr.appendChild(el("td", { "class": "l" }, word("state." + o.state, o.state)));
    tr.appendChild(el("td", { "class": "l" }, word("timing." + o.timing, o.timing)));
    tr.appendChild(el("td", { "class": "l" }, when(o.deadline)));
    tr.appendChild(el("td", { "class": "l" }, o.issuer));
    tr.addEventListener("click", function () { open(o.id); });
    return tr;
  }

  function list(more) {
    var q = filters();
    if (more && next) q.set("after", next);
    $("export-csv").setAttribute("href", page.export + "?" + (function () { var e = filters(); return e.toString(); })());
    return call("GET", page.api + "?" + q.toString()).then(function (ans) {
      var body = $("orders").tBodies[0];
      if (!more) body.replaceChildren();
      ans.orders.forEach(function (o) { body.appendChild(row(o)); });
      if (!body.rows.length) {
        var tr = el("tr", { "class": "empty" });
        tr.appendChild(el("td", { colspan: 7, "class": "l muted" }, T.no_orders));
        body.appendChild(tr);
      }
      $("total").textContent = T.total.replace("%d", String(ans.total));
      next = ans.next || "";
      $("more").hidden = !next;
      document.body.setAttribute("data-listed", String(Date.now()));
      showError("");
    }).catch(function (e) { showError(e.message); });
  }

  // --- one order -------------------------------------------------------------
  function field(dl, name, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, name));
    dl.appendChild(el("dd", null, String(value)));
  }
  function paint(ans) {
    var o = ans.order;
    current = o;
    $("detail").hidden = false;
    $("detail").setAttribute("data-id", o.id);
    $("detail").setAttribute("data-state", o.state);
    $("detail").setAttribute("data-timing", o.timing);
    $("detail").className = "panel t-" + o.timing;
    $("d-title").textContent = o.id + " · " + o.title;
    var f = $("d-fields");
    f.replaceChildren();
    field(f, T.unit, unitName(o));
    field(f, T.state, word("state." + o.state, o.state));
    field(f, T.timing, word("timing." + o.timing, o.timing));
    field(f, T.deadline, when(o.deadline));
    field(f, T.issuer, o.issuer);
    field(f, T.issued_at, when(o.issued_at));
    field(f, T.reason, o.reason);
    field(f, T.reply, o.reply);
    if (o.extension) field(f, T.extension, o.extension.days + " " + T.days + " · " + o.extension.reason);
    var ev = $("d-evidence"), e = o.evidence || {};
    ev.replaceChildren();
    field(ev, T.indicator, e.name || e.indicator);
    field(ev, T.value, e.value);
    field(ev, T.target, e.target);
    field(ev, T.period, e.period);
    field(ev, T.as_of, when(e.as_of));
    field(ev, T.note, e.note);
    field(ev, T.source, o.source ? o.source.kind + (o.source.ref ? " " + o.source.ref : "") : "");
    var hb = $("d-history").tBodies[0];
    hb.replaceChildren();
    (ans.history || []).forEach(function (h) {
      var tr = el("tr", { "data-action": h.action });
      tr.appendChild(el("td", { "class": "l" }, when(h.at)));
      tr.appendChild(el("td", { "class": "l" }, h.actor));
      tr.appendChild(el("td", { "class": "l" }, h.addr || ""));
      tr.appendChild(el("td", { "class": "l" }, word("act." + h.action, word("ev." + h.action, h.action))));
      tr.appendChild(el("td", { "class": "l" }, (h.from ? word("state." + h.from, h.from) + " → " : "") + word("state." + h.to, h.to || "")));
      tr.appendChild(el("td", { "class": "l" }, h.comment || ""));
      hb.appendChild(tr);
    });
    var box = $("d-buttons");
    box.replaceChildren();
    (o.can || []).forEach(function (act) {
      var b = el("button", { type: "button", "data-action": act }, word("act." + act, act));
      b.addEventListener("click", function () { act_(act); });
      box.appendChild(b);
    });
    $("d-act").hidden = !(o.can || []).length;
  }
  function open(id) {
    return call("GET", page.api + "/" + encodeURIComponent(id)).then(paint).catch(function (e) { showError(e.message); });
  }
  function act_(action) {
    var body = { version: current.version, comment: $("d-comment").value };
    if (action === "return" || action === "extend" || action === "approve") body.days = parseInt($("d-days").value, 10) || 0;
    call("POST", page.api + "/" + encodeURIComponent(current.id) + "/" + action, body).then(function (ans) {
      $("d-comment").value = "";
      paint(ans);
      document.body.setAttribute("data-acted", action);
      return list(false);
    }).catch(function (e) { showError(e.message); });
  }

  // --- issuing ---------------------------------------------------------------
  function issue(ev) {
    ev.preventDefault();
    var d = page.draft;
    var body = { unit: d.unit, title: $("issue-title").value, reason: $("issue-reason").value,
      days: parseInt($("issue-days").value, 10) || 0, source: d.source, evidence: d.evidence };
    call("POST", page.api, body).then(function (ans) {
      $("issue-panel").hidden = true;
      page.draft = null;
      history.replaceState(null, "", location.pathname + "?region=" + encodeURIComponent(page.region) + (page.lang === "en" ? "&lang=en" : ""));
      paint(ans);
      document.body.setAttribute("data-issued", ans.order.id);
      return list(false);
    }).catch(function (e) { showError(e.message); });
  }

  $("filters").addEventListener("submit", function (e) { e.preventDefault(); list(false); });
  $("more").addEventListener("click", function () { list(true); });
  if (page.draft) $("issue-form").addEventListener("submit", issue);
  $("issue-cancel").addEventListener("click", function () { $("issue-panel").hidden = true; });

  var sessionAPI = document.body.getAttribute("data-session-api");
  var ready = sessionAPI ? fetch(sessionAPI, { credentials: "same-origin" }).then(function (res) {
    return res.ok ? res.json() : null;
  }).then(function (who) {
    if (!who || who.kind !== "user") return;
    csrf = who.csrf;
    $("who-name").textContent = who.name + " · " + (who.region_name || who.region);
    $("who").hidden = false;
    $("logout").addEventListener("click", function () {
      fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
        .then(function () { location.assign("/login"); });
    });
  }, function () {}) : Promise.resolve();
  Promise.all([ready, list(false)]).then(function () { document.body.setAttribute("data-ready", "1"); });
})();
