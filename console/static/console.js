// The analyst console. The server decides, the browser paints: a view
// (the page's first one, and /api/view for every later one) arrives with
// its ranks, texts, statuses, tones and links set and its charts composed
// as ECharts options. This script keeps the view's state in the URL,
// fetches the next view and paints it; it holds no rule of its own.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function parsed(id) { return JSON.parse($(id).textContent); }
  var T = parsed("console-dict");
  var data = parsed("console-data");
  var state = data.state;
  var seq = 0;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function indName(ind) { return state.lang === "en" ? ind.name_en : ind.name; }

  // --- navigation ----------------------------------------------------------
  var stateKeys = ["indicator", "period", "as_of", "region", "level", "by", "compare", "lang"];
  function query(s) {
    var q = new URLSearchParams();
    stateKeys.forEach(function (k) {
      var v = s[k];
      if (Array.isArray(v)) v = v.join(",");
      if (v) q.set(k, v);
    });
    return q.toString();
  }
  function pageURL(s) { return "/console?" + query(s); }

  function load(s, push) {
    var my = ++seq;
    document.body.setAttribute("data-loading", "1");
    return fetch("/api/view?" + query(s)).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.error || res.statusText);
        return body;
      });
    }).then(function (view) {
      if (my !== seq) return;
      data = view;
      state = view.state;
      if (push) history.pushState(state, "", view.links.self);
      render();
      document.body.removeAttribute("data-loading");
    }).catch(function (e) {
      if (my !== seq) return;
      document.body.removeAttribute("data-loading");
      var err = $("error");
      err.hidden = false;
      err.textContent = T.error + ": " + e.message;
    });
  }

  function go(change) { load(Object.assign({}, state, change), true); }

  // --- painting ------------------------------------------------------------
  function head(table, cols) {
    var tr = el("tr");
    cols.forEach(function (c) { tr.appendChild(el("th", { "class": c[1] || "" }, c[0])); });
    table.tHead.replaceChildren(tr);
  }
  function nameCell(name, code) {
    var td = el("td", { "class": "l" });
    td.appendChild(document.createTextNode(name));
    if (code && code !== name) td.appendChild(el("span", { "class": "code" }, code));
    return td;
  }
  function statusCell(status, text) {
    var td = el("td", { "class": "l" });
    td.appendChild(el("span", { "class": "dot " + status }));
    td.appendChild(document.createTextNode(text));
    return td;
  }
  function changeCell(ch) { return el("td", { "class": ch.tone, title: ch.value_text }, ch.text); }
  function emptyRow(body, cols) {
    var tr = el("tr", { "class": "empty" });
    tr.appendChild(el("td", { colspan: cols, "class": "l muted" }, T.no_rows));
    body.appendChild(tr);
  }
  function paintChart(id, option) {
    var node = $(id);
    var chart = echarts.getInstanceByDom(node) || echarts.init(node, node.dataset.theme, { renderer: "canvas" });
    chart.setOption(option, true);
  }
  function summary(parts) { $("summary").replaceChildren.apply($("summary"), parts); }
  function asOf(r) { return " · " + T.as_of + " " + r.as_of_text + (r.live ? " (" + T.live + ")" : ""); }

  function renderBreadcrumb(region) {
    var nav = $("breadcrumb");
    nav.replaceChildren();
    region.ancestors.forEach(function (a) {
      var link = el("a", { href: pageURL(Object.assign({}, state, { region: a.code, level: "" })), "data-region": a.code }, a.name);
      link.addEventListener("click", function (e) { e.preventDefault(); go({ region: a.code, level: "" }); });
      nav.appendChild(link);
      nav.appendChild(el("span", { "class": "sep" }, "›"));
    });
    nav.appendChild(el("span", { "class": "current", "data-region": region.code }, region.name));
  }

  // compareBox ticks a unit into the compare list; the server keeps the
  // last few.
  function compareBox(row) {
    var td = el("td", { "class": "l" });
    var box = el("input", { type: "checkbox", title: T.compare, "aria-label": T.compare });
    box.checked = state.compare.indexOf(row.key) >= 0;
    box.addEventListener("click", function (e) { e.stopPropagation(); });
    box.addEventListener("change", function () {
      var list = state.compare.filter(function (x) { return x !== row.key; });
      if (box.checked) list.push(row.key);
      go({ compare: list });
    });
    td.appendChild(box);
    return td;
  }

  // A region's row opens that region; departments have no view of their own.
  function bindDrill(tr, row) {
    if (row.dept) return;
    tr.classList.add("drill");
    tr.addEventListener("click", function () { go({ region: row.region, level: "", by: "" }); });
  }

  // issueCell links a red row to the issue form of a supervision order
  // (督办) when the server offers it (data.issue: operators only).
  function issueCell(row) {
    var td = el("td", { "class": "l" });
    var href = data.issue && Object.prototype.hasOwnProperty.call(data.issue, row.key) ? data.issue[row.key] : "";
    if (href) {
      var a = el("a", { href: href, "class": "issue", "data-issue": row.key }, T.issue_order);
      a.addEventListener("click", function (e) { e.stopPropagation(); });
      td.appendChild(a);
    }
    return td;
  }

  function rankingRows(rows, cols, cells) {
    var table = $("ranking");
    head(table, cols);
    var body = el("tbody");
    rows.forEach(function (row) {
      var tr = el("tr", { "data-unit": row.unit, "data-region": row.region });
      cells(row).forEach(function (td) { tr.appendChild(td); });
      tr.appendChild(compareBox(row));
      tr.appendChild(issueCell(row));
      bindDrill(tr, row);
      body.appendChild(tr);
    });
    if (!rows.length) emptyRow(body, cols.length);
    table.replaceChild(body, table.tBodies[0]);
  }

  function renderRanking(r) {
    $("ranking-title").textContent = indName(r.indicator) + " · " + T.ranking + " · " + r.region.name;
    $("chart-title").textContent = indName(r.indicator);
    var rule = r.rule ? " · " + T.target + " " + r.rule.target_text + " · " + T.floor + " " + r.rule.floor_text : "";
    summary([document.createTextNode(T.total + " "), el("b", null, r.total.value_text), document.createTextNode(rule + asOf(r))]);
    rankingRows(r.rows, [[T.rank], [T.unit, "l"], [T.value], [T.numerator], [T.denominator], [T.status, "l"], [T.mom], [T.yoy], [T.compare, "l"], [T.issue_order, "l"]],
      function (row) {
        return [el("td", null, row.rank_text), nameCell(row.name, row.unit), el("td", { "class": row.status }, row.value_text),
          el("td", null, row.numerator_text), el("td", null, row.denominator_text), statusCell(row.status, row.status_text),
          changeCell(row.mom), changeCell(row.yoy)];
      });
    paintChart("rankchart", r.chart);
  }

  function renderComposite(r) {
    $("ranking-title").textContent = T.composite + " · " + T.ranking + " · " + r.region.name;
    $("chart-title").textContent = T.composite;
    summary([document.createTextNode(T.total + " "), el("b", null, r.total.score_text), document.createTextNode(" " + r.total.tier_text + asOf(r))]);
    rankingRows(r.rows, [[T.rank], [T.unit, "l"], [T.score], [T.tier, "l"], [T.mom], [T.yoy], [T.compare, "l"], [T.issue_order, "l"]],
      function (row) {
        return [el("td", null, row.rank_text), nameCell(row.name, row.unit), el("td", null, row.score_text),
          el("td", { "class": "l" }, row.tier_text), changeCell(row.mom), changeCell(row.yoy)];
      });
    paintChart("rankchart", r.chart);
  }

  function renderTrend(t) {
    $("trend-empty").hidden = !!t;
    $("trendchart").style.visibility = t ? "visible" : "hidden";
    if (!t) return;
    $("trend-title").textContent = T.trend + " · " + indName(t.indicator) + " · " + t.region.name;
    paintChart("trendchart", t.chart);
  }

  function renderUnit(u) {
    $("unit-title").textContent = T.unit_panel + " · " + u.unit.name + (u.dept ? " · " + u.dept : "");
    $("unit-composite").replaceChildren(el("span", { "class": "score" }, u.composite.score_text),
      document.createTextNode(T.composite + " · " + u.composite.tier_text));
    var table = $("unit");
    head(table, [[T.indicator, "l"], [T.value], [T.numerator], [T.denominator], [T.target], [T.status, "l"], [T.mom], [T.yoy]]);
    var body = el("tbody");
    u.indicators.forEach(function (x) {
      var tr = el("tr", { "data-indicator": x.indicator.id, "class": "drill" });
      [el("td", { "class": "l" }, indName(x.indicator)), el("td", { "class": x.status }, x.value_text),
        el("td", null, x.numerator_text), el("td", null, x.denominator_text), el("td", null, x.target_text),
        statusCell(x.status, x.status_text), changeCell(x.mom), changeCell(x.yoy)].forEach(function (td) { tr.appendChild(td); });
      tr.addEventListener("click", function () { go({ indicator: x.indicator.id }); });
      body.appendChild(tr);
    });
    table.replaceChild(body, table.tBodies[0]);
  }

  function renderCompare(units) {
    var table = $("compare");
    if (!units.length) {
      table.tHead.replaceChildren();
      table.replaceChild(el("tbody"), table.tBodies[0]);
      return;
    }
    var cols = [[T.indicator, "l"]];
    units.forEach(function (u) { cols.push([u.unit.name + (u.dept ? " · " + u.dept : "")]); });
    head(table, cols);
    var body = el("tbody");
    var tr = el("tr", { "class": "total" });
    tr.appendChild(el("td", { "class": "l" }, T.composite));
    units.forEach(function (u) { tr.appendChild(el("td", null, u.composite.score_text + " " + u.composite.tier_text)); });
    body.appendChild(tr);
    units[0].indicators.forEach(function (x, i) {
      var row = el("tr");
      row.appendChild(el("td", { "class": "l" }, indName(x.indicator)));
      units.forEach(function (u) {
        var y = u.indicators[i];
        row.appendChild(el("td", { "class": y.status }, y.value_text));
      });
      body.appendChild(row);
    });
    table.replaceChild(body, table.tBodies[0]);
  }

  function syncControls() {
    $("f-indicator").value = state.indicator;
    $("f-period").value = state.period;
    $("f-as_of").value = data.as_of_date;
    $("f-by").value = state.by;
    $("f-region").value = state.region;
    var lv = $("f-level");
    lv.replaceChildren.apply(lv, data.levels.map(function (o) {
      var opt = el("option", { value: o.value }, o.label);
      opt.selected = o.selected;
      return opt;
    }));
    lv.disabled = data.levels_disabled;
    $("export-csv").href = data.links.csv;
    $("export-xlsx").href = data.links.xlsx;
    $("lang").href = data.links.lang;
  }

  function render() {
    renderBreadcrumb(data.region);
    if (data.composite) renderComposite(data.composite); else renderRanking(data.ranking);
    renderTrend(data.trend || null);
    renderUnit(data.unit);
    renderCompare(data.compare);
    syncControls();
    var err = $("error");
    err.hidden = !data.error;
    err.textContent = data.error || "";
    document.body.setAttribute("data-region", data.region.code);
    document.body.setAttribute("data-view", data.links.self);
  }

  // --- wiring --------------------------------------------------------------
  $("controls").addEventListener("change", function (e) {
    var t = e.target;
    if (!t.name || t.name === "lang" || t.name === "region") return;
    var change = {};
    change[t.name] = t.value;
    go(change);
  });
  $("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  $("compare-clear").addEventListener("click", function () { go({ compare: [] }); });
  window.addEventListener("popstate", function (e) { if (e.state) load(e.state, false); });
  window.addEventListener("resize", function () {
    ["rankchart", "trendchart"].forEach(function (id) {
      var chart = echarts.getInstanceByDom($(id));
      if (chart) chart.resize();
    });
  });
  // Who is signed in (the server's session API), and signing out with the
  // session's CSRF token. Served without a session API, nobody is shown.
  var sessionAPI = document.body.getAttribute("data-session-api");
  if (sessionAPI) fetch(sessionAPI, { credentials: "same-origin" }).then(function (res) {
    return res.ok ? res.json() : null;
  }).then(function (who) {
    if (!who || who.kind !== "user") return;
    $("who-name").textContent = who.name + " · " + (who.region_name || who.region);
    $("who").hidden = false;
    $("logout").addEventListener("click", function () {
      fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": who.csrf } })
        .then(function () { location.assign("/login"); });
    });
  }, function () {});
  history.replaceState(state, "", data.links.self);
  render();
  requestAnimationFrame(function () {
    performance.mark("console-ready");
    document.body.setAttribute("data-ready", "1");
  });
})();
