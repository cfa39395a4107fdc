// Yiping wall screen runtime. The page is drawn by the server (values,
// charts composed with go-echarts); this script keeps it live: it scales the
// stage to the wall, subscribes to the hub (hub/doc.go) for every value the
// page shows, applies changes to the data-* elements and to the charts with
// setOption, shows "data delayed" when the connection or a source stops,
// reconnects and resumes by sequence number, and runs playlists.
//
// It keeps bounded state only (one entry per topic), so a screen can run for
// days.
var Wall = (function () {
  "use strict";

  var cfg, T;
  var handlers = new Map(); // topic → [fn(data)]
  var seqs = new Map();     // topic → last seq seen
  var ws = null, retry = 0, lastMsg = 0, opened = false;
  var sources = new Map();  // source → health payload
  var serverSkew = 0;       // server clock − local clock, ms

  function topicOf(ind, region, period) {
    return ind === "composite" ? "score:" + region + ":" + period : "ind:" + ind + ":" + region + ":" + period;
  }

  function on(topic, fn) {
    var l = handlers.get(topic);
    if (!l) { l = []; handlers.set(topic, l); }
    l.push(fn);
  }

  // value extracts the raw value of a topic payload: a number or null.
  function valueOf(d) {
    if (!d) return null;
    if (d.score !== undefined) return d.score;
    return d.value === undefined ? null : d.value;
  }

  function fmt(ind, v) {
    if (v === null || v === undefined || v === "") return "—";
    var def = cfg.defs[ind];
    if (ind === "composite") return Number(v).toFixed(1);
    if (def && def.rate) return (v * 100).toFixed(2) + "%";
    return Math.round(v).toLocaleString(cfg.lang === "en" ? "en-US" : "zh-CN");
  }

  // display converts a raw value to chart units (percent for rates).
  function display(ind, v) {
    if (v === null || v === undefined) return null;
    var def = cfg.defs[ind];
    if (def && def.rate) return Math.round(v * 10000) / 100;
    return Math.round(v * 100) / 100;
  }

  function levelOf(code) {
    if (code.length === 9) return "township";
    if (code.slice(2) === "0000") return "province";
    if (code.slice(4) === "00") return "city";
    return "county";
  }

  // status mirrors scoring.Status: green meets the target, amber the floor.
  function status(ind, v, level) {
    if (v === null || v === undefined) return "";
    if (ind === "composite") return v >= 90 ? "green" : v >= 60 ? "amber" : "red";
    var r = (cfg.rules[level] || {})[ind];
    if (!r) return "";
    var lower = cfg.defs[ind] && cfg.defs[ind].lower, eps = 1e-9;
    var meets = function (b) { return lower ? v <= b + eps : v >= b - eps; };
    return meets(r.target) ? "green" : meets(r.floor) ? "amber" : "red";
  }
  var colors = { green: "#34d399", amber: "#fbbf24", red: "#f87171", "": "#2fd0ff" };

  // ---- rolling digits ----------------------------------------------------
  function odometer(el, text) {
    var chars = Array.from(text);
    var same = el.classList.contains("odo") && el.childNodes.length === chars.length;
    if (same) {
      for (var i = 0; i < chars.length; i++) {
        var isD = /[0-9]/.test(chars[i]), node = el.childNodes[i];
        if (isD !== node.classList.contains("dg")) { same = false; break; }
      }
    }
    if (!same) {
      el.classList.add("odo");
      el.textContent = "";
      chars.forEach(function (c) {
        var s = document.createElement("span");
        if (/[0-9]/.test(c)) {
          s.className = "dg";
          var st = document.createElement("span");
          st.className = "st";
          for (var d = 0; d <= 9; d++) { var x = document.createElement("span"); x.textContent = d; st.appendChild(x); }
          s.appendChild(st);
        } else { s.className = "ch"; s.textContent = c; }
        el.appendChild(s);
      });
    }
    chars.forEach(function (c, i) {
      var node = el.childNodes[i];
      if (node.classList.contains("dg")) node.firstChild.style.transform = "translateY(-" + (Number(c) * 10) + "%)";
      else node.textContent = c;
    });
    el.setAttribute("aria-label", text);
  }

  // applyValue sets one data-* element from a topic payload.
  function applyValue(el, d) {
    var ind = el.dataset.indicator, v = valueOf(d);
    el.dataset.value = v === null ? "" : String(v);
    if (d && d.numerator !== undefined) el.dataset.num = String(d.numerator);
    if (d && d.denominator !== undefined) el.dataset.den = d.denominator === null ? "" : String(d.denominator);
    var text = fmt(ind, v);
    if (el.closest(".tile-value")) odometer(el, text); else el.textContent = text;
    var st = status(ind, v, levelOf(el.dataset.region));
    el.classList.remove("s-green", "s-amber", "s-red");
    if (st) el.classList.add("s-" + st);
  }

  function bindElements(root) {
    root.querySelectorAll(".val[data-indicator][data-region][data-period]").forEach(function (el) {
      on(topicOf(el.dataset.indicator, el.dataset.region, el.dataset.period), function (d) { applyValue(el, d); });
    });
  }

  // ---- charts -------------------------------------------------------------
  function chart(id) {
    var el = document.getElementById(id);
    return el ? echarts.getInstanceByDom(el) : null;
  }

  // later batches chart repaints to one per frame per chart.
  var pending = new Map();
  function later(key, fn) {
    if (pending.has(key)) { pending.set(key, fn); return; }
    pending.set(key, fn);
    requestAnimationFrame(function () { var f = pending.get(key); pending.delete(key); f(); });
  }

  function rankSort(items, lower) {
    // items: {code, v}; best first, nulls last, ties by code.
    items.sort(function (a, b) {
      if ((a.v === null) !== (b.v === null)) return a.v === null ? 1 : -1;
      if (a.v !== null && a.v !== b.v) return lower ? a.v - b.v : b.v - a.v;
      return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
    });
    var rank = 0;
    items.forEach(function (it, i) {
      if (it.v === null) { it.rank = 0; return; }
      rank = (i > 0 && items[i - 1].v === it.v) ? items[i - 1].rank : i + 1;
      it.rank = rank;
    });
    return items;
  }

  function mapWidget(w) {
    var c = chart(w.chart);
    if (!c) return;
    var vals = new Map(), current = null; // current: drilled city code or null
    var section = document.getElementById(w.id), back = section.querySelector(".back");
    function data(codes, features) {
      return codes.map(function (k) {
        var v = display(w.indicator, vals.has(k) ? vals.get(k) : null);
        return v === null ? { name: features[k] } : { name: features[k], value: v };
      });
    }
    function paint() {
      later(w.chart, function () {
        if (current) {
          var d = w.drill[current];
          c.setOption({ series: [{ map: d.map, data: data(d.children, d.features) }] });
        } else {
          c.setOption({ series: [{ map: w.map, data: data(w.children, w.features) }] });
        }
      });
    }
    function watch(codes) {
      codes.forEach(function (k) {
        on(topicOf(w.indicator, k, w.period), function (d) { vals.set(k, valueOf(d)); paint(); });
      });
    }
    watch(w.children);
    var byFeature = {};
    w.children.forEach(function (k) { byFeature[w.features[k]] = k; });
    var subscribedDrill = new Set();
    c.on("click", function (p) {
      if (current || !w.drill) return;
      var code = byFeature[p.name];
      var d = code && w.drill[code];
      if (!d) return;
      current = code;
      if (!subscribedDrill.has(code)) {
        subscribedDrill.add(code);
        watch(d.children);
        subscribe(d.children.map(function (k) { return topicOf(w.indicator, k, w.period); }));
      }
      section.dataset.drill = code;
      if (back) back.hidden = false;
      paint();
    });
    if (back) back.addEventListener("click", function () {
      current = null;
      delete section.dataset.drill;
      back.hidden = true;
      paint();
    });
  }

  function barWidget(w) {
    var c = chart(w.chart);
    if (!c) return;
    var vals = new Map();
    var section = document.getElementById(w.id);
    section.querySelectorAll(".val").forEach(function (el) {
      vals.set(el.dataset.region, el.dataset.value === "" ? null : Number(el.dataset.value));
    });
    var lower = cfg.defs[w.indicator].lower;
    w.children.forEach(function (k) {
      on(topicOf(w.indicator, k, w.period), function (d) {
        vals.set(k, valueOf(d));
        later(w.chart, function () {
          var items = rankSort(w.children.map(function (code) { return { code: code, v: vals.has(code) ? vals.get(code) : null }; }), lower);
          if (w.rows > 0) items = items.slice(0, w.rows);
          c.setOption({
            xAxis: [{ data: items.map(function (it) { return cfg.names[it.code] || it.code; }) }],
            series: [{ data: items.map(function (it) {
              var v = display(w.indicator, it.v);
              return v === null ? "-" : { value: v, itemStyle: { color: colors[status(w.indicator, it.v, w.level)] } };
            }) }]
          });
        });
      });
    });
  }

  function gaugeWidget(w) {
    w.indicators.forEach(function (ind, i) {
      var c = chart(w.charts[i]);
      if (!c) return;
      on(topicOf(ind, w.region, w.period), function (d) {
        var raw = valueOf(d), v = display(ind, raw), color = colors[status(ind, raw, levelOf(w.region))];
        later(w.charts[i], function () {
          c.setOption({ series: [{ progress: { itemStyle: { color: color } }, data: [{ name: cfg.defs[ind].name, value: v === null ? "-" : v }] }] });
        });
      });
    });
  }

  function trendWidget(w) {
    var c = chart(w.chart);
    if (!c) return;
    on(topicOf(w.indicator, w.region, "day"), function (d) {
      var v = display(w.indicator, valueOf(d));
      var day = (d && d.as_of ? d.as_of : "").slice(0, 10);
      later(w.chart, function () {
        var opt = c.getOption(), data = opt.series[0].data.slice(), xs = opt.xAxis[0].data.slice();
        var i = w.dates.indexOf(day);
        if (i < 0) {
          if (!day || day < w.dates[w.dates.length - 1]) return;
          w.dates.push(day); w.dates.shift(); xs.push(day.slice(5)); xs.shift(); data.push(null); data.shift();
          i = w.dates.length - 1;
        }
        data[i] = v === null ? "-" : v;
        c.setOption({ xAxis: [{ data: xs }], series: [{ data: data }] });
      });
    });
  }

  function rankingWidget(w) {
    var section = document.getElementById(w.id);
    var lists = Array.from(section.querySelectorAll(".rank-list"));
    lists.forEach(function (list) {
      var ind = list.dataset.list, lower = cfg.defs[ind].lower, ol = list.querySelector("ol");
      var resort = function () {
        later(w.id + ind, function () {
          var rows = Array.from(ol.children).map(function (li) {
            var el = li.querySelector(".val");
            return { li: li, code: el.dataset.region, v: el.dataset.value === "" ? null : Number(el.dataset.value) };
          });
          rankSort(rows, lower);
          var best = 0;
          rows.forEach(function (r) { if (r.v !== null) best = Math.max(best, Math.abs(r.v)); });
          rows.forEach(function (r) {
            r.li.dataset.rank = String(r.rank);
            r.li.querySelector(".rk").textContent = r.rank ? String(r.rank) : "—";
            r.li.querySelector(".bar i").style.width = (r.v === null || !best ? 0 : Math.abs(r.v) / best * 100) + "%";
            ol.appendChild(r.li); // in order
          });
        });
      };
      ol.querySelectorAll(".val").forEach(function (el) {
        on(topicOf(ind, el.dataset.region, el.dataset.period), resort);
      });
    });
    if (lists.length > 1 && w.rotate_ms > 0) {
      var i = 0;
      setInterval(function () {
        lists[i].classList.remove("on");
        i = (i + 1) % lists.length;
        lists[i].classList.add("on");
      }, w.rotate_ms);
    }
  }

  function tickerWidget(w) {
    var ul = document.querySelector("#" + w.id + " .ticker");
    var seen = new Set(), first = true;
    var render = function (lines) {
      ul.textContent = "";
      lines = (lines || []).slice(0, w.rows || 20);
      if (!lines.length) {
        var e = document.createElement("li"); e.className = "empty"; e.textContent = T.no_tickets; ul.appendChild(e);
      }
      var next = new Set();
      lines.forEach(function (l) {
        var li = document.createElement("li");
        li.dataset.ticket = l.id;
        if (!first && !seen.has(l.id)) li.className = "new";
        next.add(l.id);
        var cell = function (cls, text) { var s = document.createElement("span"); s.className = cls; s.textContent = text; li.appendChild(s); };
        cell("t-time", (l.received_at || "").slice(11, 19));
        cell("t-region", l.region_name || l.region);
        cell("t-kind t-kind-" + l.kind, T["kind." + l.kind] || l.kind);
        cell("t-channel", T["channel." + l.channel] || l.channel);
        cell("t-state", T["state." + l.state] || l.state);
        ul.appendChild(li);
      });
      seen = next; first = false;
    };
    render([]);
    first = true; // the snapshot is not news
    on(w.topic, render);
  }

  function healthWidget(w) {
    document.querySelectorAll("#" + w.id + " .health li").forEach(function (li) {
      on("health:" + li.dataset.source, function () { paintHealth(li); });
    });
  }

  // sourceState judges a source from its health payload.
  function sourceState(h) {
    if (!h) return "never";
    if (h.consecutive_failures > 0) return "failing";
    if (h.lag_seconds === null || h.lag_seconds === undefined) return h.type === "push" ? "ok" : "never";
    if (h.type !== "push" && h.lag_seconds * 1000 > cfg.stale_ms) return "stale";
    return "ok";
  }

  function ago(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return Math.round(s) + (cfg.lang === "en" ? " s" : "秒") + T.ago;
    if (s < 3600) return Math.round(s / 60) + (cfg.lang === "en" ? " min" : "分钟") + T.ago;
    return Math.round(s / 3600) + (cfg.lang === "en" ? " h" : "小时") + T.ago;
  }

  function paintHealth(li) {
    var h = sources.get(li.dataset.source), st = sourceState(h);
    li.dataset.health = st;
    var text = T["src." + st];
    if (st === "ok" || st === "stale") text += " · " + ago(h.lag_seconds);
    if (st === "failing") text += " ×" + h.consecutive_failures;
    li.querySelector(".src-state").textContent = text;
  }

  // ---- link state ----------------------------------------------------------
  function setState() {
    var reasons = [];
    if (!ws || ws.readyState !== 1 || !opened) reasons.push(retry > 0 || opened ? T.disconnected : T.connecting);
    else if (Date.now() - lastMsg > cfg.silence_ms) reasons.push(T.silent);
    sources.forEach(function (h, name) {
      var st = sourceState(h);
      if (st === "failing") reasons.push(T.source_failing + name);
      else if (st === "stale") reasons.push(T.source_delayed + name);
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
    if (cfg.tz && cfg.tz !== "Local" && cfg.tz !== "UTC") opts.timeZone = cfg.tz;
    if (cfg.tz === "UTC") opts.timeZone = "UTC";
    try { el.textContent = d.toLocaleString(cfg.lang === "en" ? "en-GB" : "zh-CN", opts); }
    catch (e) { delete opts.timeZone; el.textContent = d.toLocaleString(cfg.lang === "en" ? "en-GB" : "zh-CN", opts); }
  }

  // ---- websocket ------------------------------------------------------------
  var MAX_TOPICS_PER_REQUEST = 100;

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
      opened = true; retry = 0; lastMsg = Date.now();
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
      if (m.topic.indexOf("health:") === 0) sources.set(m.topic.slice(7), m.data);
      if (m.topic === "sys:clock" && m.data && m.data.unix_ms) serverSkew = m.data.unix_ms - Date.now();
      if (m.data !== undefined) deliver(m.topic, m.data);
    };
    sock.onclose = function () {
      if (sock !== ws) return;
      ws = null;
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
    bindElements(document);
    on("sys:clock", function () {});
    cfg.widgets.forEach(function (w) {
      switch (w.type) {
        case "map": mapWidget(w); break;
        case "bar": barWidget(w); break;
        case "gauge": gaugeWidget(w); break;
        case "trend": trendWidget(w); break;
        case "ranking": rankingWidget(w); break;
        case "ticker": tickerWidget(w); break;
        case "health": healthWidget(w); break;
      }
    });
    connect();
    setState();
    setInterval(function () { setState(); tickClock(); }, 1000);
    tickClock();
    playlist();
  }

  return { start: start, topicOf: topicOf, state: function () { return document.body.dataset.state; } };
})();
