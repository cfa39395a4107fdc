// Yiping phone page (小屏): the open special reports of a region and its
// open supervision orders (督办单), live. The server draws the first paint
// and decides every text and status; this script follows the region's
// report topic and orders topic over the hub (hub/doc.go), paints each
// board as given (textContent only: no string of data becomes markup),
// and acknowledges a report with the session's CSRF token.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("m-config").textContent);
  var T = cfg.t;
  var list = document.getElementById("reports");
  var errBox = document.getElementById("error");
  var ws = null, retry = 0, seqs = {};
  var topics = [cfg.topic];
  if (cfg.orders) topics.push(cfg.orders);

  function inLang(zh, en) { return cfg.lang === "en" && en ? en : zh; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function meta(dl, label, cls, text) {
    var d = el("div");
    d.appendChild(el("dt", "", label));
    d.appendChild(el("dd", cls, text));
    dl.appendChild(d);
  }

  // item builds one report's card, as mobile.html does.
  function item(r) {
    var li = el("li", "rep sev-" + r.severity);
    li.dataset.id = r.id;
    li.dataset.state = r.state;
    var head = el("div", "rep-head");
    head.appendChild(el("span", "sev", T["sev." + r.severity] || r.severity));
    head.appendChild(el("h2", "rep-title", inLang(r.title, r.title_en)));
    li.appendChild(head);
    li.appendChild(el("p", "rep-text", inLang(r.text, r.text_en)));
    var dl = el("dl", "rep-meta");
    meta(dl, T.region, "rep-region", r.region_name || r.region);
    meta(dl, T.fired, "rep-fired", r.fired_text);
    meta(dl, T.state, "rep-state", T["state." + r.state] || r.state);
    if (r.acked_by) meta(dl, T.acked_by, "rep-acked", r.acked_by);
    li.appendChild(dl);
    if (cfg.can_ack && r.state === "firing") {
      var b = el("button", "ack", T.ack);
      b.type = "button";
      li.appendChild(b);
    }
    // The server decided who may issue (cfg.can_issue) and where the
    // form is; the link is built as the server's issueLink builds it.
    if (cfg.can_issue && cfg.issue) {
      var a = el("a", "issue", T.issue);
      a.href = cfg.issue + encodeURIComponent(r.id) + "&region=" + encodeURIComponent(r.region) + (cfg.lang === "en" ? "&lang=en" : "");
      li.appendChild(a);
    }
    return li;
  }

  // paint shows a Board: the reports in the server's order.
  function paint(board) {
    if (!board) return;
    var reports = board.reports || [];
    list.textContent = "";
    if (!reports.length) list.appendChild(el("li", "empty", T.none));
    reports.forEach(function (r) { list.appendChild(item(r)); });
    document.getElementById("unacked").textContent = T.unacked.replace("%d", String(board.unacked || 0));
    if (board.region_name) document.getElementById("region").textContent = board.region_name;
    if (board.as_of_text) document.getElementById("asof").textContent = T.as_of + board.as_of_text;
  }

  // order builds one order's card, as mobile.html does.
  function order(o) {
    var li = el("li", "ord t-" + o.timing);
    li.dataset.id = o.id;
    li.dataset.state = o.state;
    li.dataset.timing = o.timing;
    var top = el("div", "ord-top");
    top.appendChild(el("span", "ord-timing", word("timing.", o.timing)));
    top.appendChild(el("h3", "ord-title", o.title));
    li.appendChild(top);
    var dl = el("dl", "rep-meta");
    meta(dl, T.unit, "ord-unit", (o.unit_name || o.unit) + (o.dept ? " · " + o.dept : ""));
    meta(dl, T.order_state, "ord-state", word("ostate.", o.state));
    meta(dl, T.deadline, "ord-due", o.deadline_text);
    li.appendChild(dl);
    return li;
  }

  function word(prefix, code) {
    return Object.prototype.hasOwnProperty.call(T, prefix + code) ? T[prefix + code] : code;
  }

  // paintOrders shows an OrderBoard: the orders in the server's order
  // (overdue first), each with the server's timing.
  function paintOrders(board) {
    var box = document.getElementById("orders");
    if (!board || !box) return;
    var orders = board.orders || [], open = board.open || 0, overdue = board.overdue || 0;
    var ol = document.getElementById("ord-list");
    ol.textContent = "";
    if (!orders.length) ol.appendChild(el("li", "empty", T.orders_none));
    orders.forEach(function (o) { ol.appendChild(order(o)); });
    box.dataset.overdue = String(overdue);
    document.getElementById("ord-open").textContent = T.orders_open.replace("%d", String(open));
    document.getElementById("ord-late").textContent = T.orders_overdue.replace("%d", String(overdue));
    var more = document.getElementById("ord-more"), extra = open - orders.length;
    more.hidden = extra <= 0;
    more.textContent = extra > 0 ? T.orders_more.replace("%d", String(extra)) : "";
  }

  // update repaints one card from the report the API answered, until the
  // next Board says the same.
  function update(r) {
    var old = list.querySelector('li[data-id="' + CSS.escape(r.id) + '"]');
    if (old) list.replaceChild(item(r), old);
  }

  function showError(text) {
    errBox.textContent = text;
    errBox.hidden = !text;
  }

  // ---- acknowledging -------------------------------------------------------
  // The session's CSRF token, asked for once.
  var session = null;
  function csrf() {
    if (!session) {
      session = fetch(cfg.session, { credentials: "same-origin", cache: "no-store" }).then(function (res) {
        if (!res.ok) throw new Error("session " + res.status);
        return res.json();
      }).then(function (who) { return who.csrf || ""; });
      session.catch(function () { session = null; });
    }
    return session;
  }

  function ack(button) {
    var id = button.closest("li").dataset.id;
    button.disabled = true;
    button.textContent = T.acking;
    showError("");
    csrf().then(function (token) {
      return fetch(cfg.ack[0] + encodeURIComponent(id) + cfg.ack[1], {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ comment: "" })
      });
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (r.ok) { update(r.body); return; }
      showError(T.ack_failed + (r.body.error || ""));
      button.disabled = false;
      button.textContent = T.ack;
    }, function () {
      showError(T.ack_failed + T.unreachable);
      button.disabled = false;
      button.textContent = T.ack;
    });
  }

  list.addEventListener("click", function (e) {
    var b = e.target.closest("button.ack");
    if (b && !b.disabled) ack(b);
  });
  if (cfg.can_ack) csrf().catch(function () {});

  // ---- live ----------------------------------------------------------------
  function setState(state) {
    document.body.dataset.state = state;
    var link = document.getElementById("link");
    link.dataset.state = state;
    link.textContent = T[state];
  }

  function connect() {
    var sock;
    try {
      sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.ws);
    } catch (e) { reconnect(); return; }
    ws = sock;
    sock.onopen = function () {
      retry = 0;
      var since = {};
      topics.forEach(function (t) { if (seqs[t]) since[t] = seqs[t]; });
      sock.send(JSON.stringify({ op: "subscribe", topics: topics, since: since }));
      setState("live");
    };
    sock.onmessage = function (e) {
      if (sock !== ws) return;
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.op) {
        if (m.op === "error") console.warn("mobile: hub: " + m.error);
        return;
      }
      if (topics.indexOf(m.topic) < 0) return;
      if (m.seq) seqs[m.topic] = m.seq;
      // A snapshot without data: nothing published yet; the first paint
      // stands.
      if (m.data === undefined) return;
      if (m.topic === cfg.topic) paint(m.data);
      else paintOrders(m.data);
    };
    sock.onclose = function () {
      if (sock !== ws) return;
      ws = null;
      setState("offline");
      reconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function reconnect() {
    retry++;
    var delay = Math.min(10000, 500 * Math.pow(2, Math.min(retry - 1, 5)));
    setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  }

  connect();
})();
