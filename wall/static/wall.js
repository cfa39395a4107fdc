// Yiping wall screen runtime. The server draws the page and decides every
// value, text, status colour and rank (package live); this script keeps the
// page live and paints: it scales the stage to the wall, subscribes to the
// hub (hub/doc.go) for the topics the widgets name, hands each payload to
// its widget's painter (one script per widget type, after this one in the
// same file: Wall.kind), shows "data delayed" when the connection or a
// source (as the server judges it) stops, reconnects and resumes by
// sequence number, and runs playlists.
//
// It keeps bounded state only (one entry per topic), so a screen can run for
// days.
var Wall = (function () {
  "use strict";

  var cfg, T;
  var kinds = {};           // widget type → painter(w, wall)
  var handlers = new Map(); // topic → [fn(data)]
  var seqs = new Map();     // topic → last seq seen
  var ws = null, retry = 0, lastMsg = 0, opened = false;
  var sources = new Map();  // source name → its latest health payload
  var serverSkew = 0;       // server clock − local clock, ms

  // Painting: status names to colours, nothing more (the server decides
  // the status).
  var colors = { green: "#34d399", amber: "#fbbf24", red: "#f87171" };
  var accent = "#2fd0ff";

  // on calls fn with every payload of topic, and subscribes to it.
  function on(topic, fn) {
    var l = handlers.get(topic);
    if (!l) {
      l = [];
      handlers.set(topic, l);
      subscribe([topic]);
    }
    l.push(fn);
  }

  // paint sets a value element from a payload (Value, or a ranking's row):
  // its data-* attributes, its text (write(el, text) when given) and its
  // status class.
  function paint(el, d, write) {
    if (!el || !d) return;
    el.dataset.value = d.value === null || d.value === undefined ? "" : String(d.value);
    if (d.numerator !== undefined) el.dataset.num = String(d.numerator);
    if (d.denominator !== undefined) el.dataset.den = d.denominator === null ? "" : String(d.denominator);
    if (write) write(el, d.text); else el.textContent = d.text;
    el.classList.remove("s-green", "s-amber", "s-red");
    if (d.status) el.classList.add("s-" + d.status);
  }

  // chart draws a chart composed by the server: {id, option}.
  function chart(spec) {
    var c = echarts.init(document.getElementById(spec.id), "dark", { renderer: "svg" });
    c.setOption(spec.option);
    return c;
  }

  // later batches repaints to one per frame per key.
  var pending = new Map();
  function later(key, fn) {
    if (pending.has(key)) { pending.set(key, fn); return; }
    pending.set(key, fn);
    requestAnimationFrame(function () { var f = pending.get(key); pending.delete(key); f(); });
  }

  // api is what a widget's painter gets besides its widget.
  var api = {
    on: on,
    paint: paint,
    chart: chart,
    later: later,
    accent: accent,
    color: function (status) { return colors[status] || null; },
    section: function (id) { return document.getElementById(id); },
    // The list widgets' small helpers (reports, surge, orders), once.
    // span appends a <span class=cls> holding value as text.
    span: function (parent, cls, value) {
      var s = document.createElement("span");
      s.className = cls;
      s.textContent = value;
      parent.appendChild(s);
    },
    // word is the widget's word for a payload's code (T[prefix+code]),
    // else the code itself.
    word: function (T, prefix, code) { return Object.prototype.hasOwnProperty.call(T, prefix + code) ? T[prefix + code] : code; },
    // fill puts value into a word's %d or %s.
    fill: function (text, value) { return text.replace(/%[ds]/, String(value)); }
  };

  // kind registers the painter of a widget type.
  function kind(name, painter) { kinds[name] = painter; }

  // ---- link state ----------------------------------------------------------
  function setState() {
    var reasons = [];
    if (revoked) reasons.push(T.revoked);
    else if (cutOff && (!ws || ws.readyState !== 1)) reasons.push(T.cut_off);
    else if (!ws || ws.readyState !== 1 || !opened) reasons.push(retry > 0 || opened ? T.disconnected : T.connecting);
    else if (Date.now() - lastMsg > cfg.silence_ms) reasons.push(T.silent);
    sources.forEach(function (h, name) {
      if (h.state === "failing") reasons.push(T.source_failing + name);
      else if (h.state === "stale") reasons.push(T.source_delayed + name);
    });
    var state = reasons.length ? (opened || retry > 0 ? "delayed" : "connecting") : "live";
    document.body.dataset.state = state;
    var link = document.getElementById("link");
    if (link) {
      link.dataset.state = state;
      link.textContent = state === "live" ? T.live : state === "connecting" ? T.connecting : T.delayed;
    }
    var banner = document.getElementById("banner");
    banner.hidden = state !== "delayed";
    banner.textContent = state === "delayed" ? T.delayed + "：" + reasons.join("；") : "";
  }

  function tickClock() {
    var el = document.getElementById("clock");
    if (!el) return;
    var d = new Date(Date.now() + serverSkew);
    var opts = { hour12: false };
    // "Local" is Go's name for the machine's zone: the browser's own then.
    if (cfg.tz && cfg.tz !== "Local") opts.timeZone = cfg.tz;
    try { el.textContent = d.toLocaleString(cfg.lang === "en" ? "en-GB" : "zh-CN", opts); }
    catch (e) { delete opts.timeZone; el.textContent = d.toLocaleString(cfg.lang === "en" ? "en-GB" : "zh-CN", opts); }
  }

  // ---- websocket ------------------------------------------------------------
  var MAX_TOPICS_PER_REQUEST = 100;
  var revoked = false; // the server revoked this screen's access
  var cutOff = false;  // the node was cut off from its cluster (4503)

  function subscribe(topics) {
    if (!ws || ws.readyState !== 1) return; // sent on (re)connect
    for (var i = 0; i < topics.length; i += MAX_TOPICS_PER_REQUEST) {
      var part = topics.slice(i, i + MAX_TOPICS_PER_REQUEST), since = {};
      part.forEach(function (t) { if (seqs.has(t)) since[t] = seqs.get(t); });
      ws.send(JSON.stringify({ op: "subscribe", topics: part, since: since }));
    }
  }

  function deliver(topic, data) {
    var l = handlers.get(topic);
    if (!l) return;
    for (var i = 0; i < l.length; i++) {
      try { l[i](data); } catch (e) { console.warn("wall: apply " + topic + ": " + e); }
    }
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.ws;
    var sock;
    try { sock = new WebSocket(url); } catch (e) { reconnect(); return; }
    ws = sock;
    sock.onopen = function () {
      opened = true; retry = 0; lastMsg = Date.now(); revoked = false; cutOff = false;
      subscribe(Array.from(handlers.keys()));
      setState();
    };
    sock.onmessage = function (e) {
      if (sock !== ws) return;
      lastMsg = Date.now();
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.op) {
        if (m.op === "error") console.warn("wall: hub: " + m.error);
        return;
      }
      if (m.seq) seqs.set(m.topic, m.seq);
      if (m.data !== undefined) deliver(m.topic, m.data);
    };
    sock.onclose = function (e) {
      if (sock !== ws) return;
      ws = null;
      // 4403: the server closed the screen's access (a revoked token, a
      // disabled user): say so rather than "reconnecting".
      if (e && e.code === 4403) revoked = true;
      // 4503: that node lost its cluster and can no longer vouch for its
      // values; reconnect at once (the proxy sends us to another node).
      if (e && e.code === 4503) { cutOff = true; retry = 0; }
      setState();
      reconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function reconnect() {
    retry++;
    var delay = Math.min(10000, 500 * Math.pow(2, Math.min(retry - 1, 5)));
    setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  }

  // ---- scaling and playlists ---------------------------------------------
  function fit() {
    var stage = document.getElementById("stage");
    var s = Math.min(window.innerWidth / cfg.width, window.innerHeight / cfg.height);
    var x = (window.innerWidth - cfg.width * s) / 2, y = (window.innerHeight - cfg.height * s) / 2;
    stage.style.transform = "translate(" + x + "px," + y + "px) scale(" + s + ")";
    document.body.dataset.scale = String(s);
  }

  function playlist() {
    if (!cfg.playlist) return;
    var go = function () {
      // Leave only when the next screen answers: a wall must not end up on
      // an error page because the server restarts at the wrong moment.
      fetch(cfg.playlist.next, { method: "HEAD", cache: "no-store" }).then(function (r) {
        if (r.ok) location.assign(cfg.playlist.next); else setTimeout(go, 10000);
      }, function () { setTimeout(go, 10000); });
    };
    setTimeout(go, cfg.playlist.seconds * 1000);
  }

  function start() {
    cfg = JSON.parse(document.getElementById("wall-config").textContent);
    T = cfg.t;
    fit();
    window.addEventListener("resize", fit);
    on(cfg.clock, function (d) { if (d && d.unix_ms) serverSkew = d.unix_ms - Date.now(); });
    (cfg.sources || []).forEach(function (s) {
      on(s.topic, function (h) { sources.set(s.name, h); setState(); });
    });
    cfg.widgets.forEach(function (w) {
      var painter = kinds[w.type];
      if (!painter) { console.warn("wall: no painter for widget type " + w.type); return; }
      try { painter(w, api); } catch (e) { console.warn("wall: widget " + w.id + ": " + e); }
    });
    connect();
    setState();
    setInterval(function () { setState(); tickClock(); }, 1000);
    tickClock();
    playlist();
  }

  // The widgets' scripts follow this one in the same file: start once the
  // whole file has run and the document is parsed.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else setTimeout(start, 0);

  return {
    kind: kind,
    // topics lists the topics the page follows (for tests and soak runs).
    topics: function () { return Array.from(handlers.keys()); },
    state: function () { return document.body.dataset.state; }
  };
})();
