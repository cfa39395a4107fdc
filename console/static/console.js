// The analyst console: keeps the whole view in the URL, fetches the API
// and redraws the tables and charts (setOption) on every change.
(function () {
  "use strict";
  var T = window.CONSOLE_DICT;
  var data = window.CONSOLE_DATA;
  var state = data.state;
  var seq = 0;
  var colors = { green: "#22c55e", amber: "#f59e0b", red: "#ef4444", "": "#64748b" };
  var font = getComputedStyle(document.body).fontFamily;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function en() { return state.lang === "en"; }
  function indName(ind) { return en() ? ind.name_en : ind.name; }

  // --- URL state ---------------------------------------------------------
  function query(s, keys) {
    var q = new URLSearchParams();
    keys.forEach(function (k) {
      var v = s[k];
      if (Array.isArray(v)) v = v.join(",");
      if (v) q.set(k, v);
    });
    return q.toString();
  }
  var stateKeys = ["indicator", "period", "as_of", "region", "level", "by", "compare", "lang"];
  var viewKeys = ["indicator", "period", "region", "level", "by", "as_of"];
  function pageURL(s) { return "/console?" + query(s, stateKeys); }
  function fromURL() {
    var q = new URLSearchParams(location.search);
    return {
      indicator: q.get("indicator") || "on_time_rate", period: q.get("period") || "month",
      as_of: q.get("as_of") || "", region: q.get("region") || data.region.code,
      level: q.get("level") || "", by: q.get("by") || "",
      compare: (q.get("compare") || "").split(",").filter(Boolean).slice(0, 4),
      lang: q.get("lang") === "en" ? "en" : "zh"
    };
  }

  // --- formatting --------------------------------------------------------
  function fmtValue(v, rate) {
    if (v === null || v === undefined) return "—";
    if (rate) return (v * 100).toFixed(2) + "%";
    return Math.round(v).toLocaleString("zh-CN");
  }
  function fmtInt(v) { return v === null || v === undefined ? "—" : v.toLocaleString("zh-CN"); }
  function fmtChange(ch, rate) {
    if (!ch || ch.change === null || ch.change === undefined) return { text: "—", cls: "flat" };
    var x = rate ? ch.change * 100 : ch.change;
    var s = (x > 0 ? "+" : "") + (rate ? x.toFixed(2) + T.pp : (Math.round(x * 100) / 100).toString());
    return { text: s, cls: x > 0 ? "up" : x < 0 ? "down" : "flat" };
  }
  function fmtScore(v) { return v === null || v === undefined ? "—" : v.toFixed(2); }
  function statusCell(status) {
    var td = el("td", { "class": "l" });
    td.appendChild(el("span", { "class": "dot " + (status || "") }));
    td.appendChild(document.createTextNode(T[status || "none"]));
    return td;
  }
  function changeCell(ch, rate, lowerIsBetter) {
    var f = fmtChange(ch, rate);
    var cls = f.cls;
    if (lowerIsBetter && cls !== "flat") cls = cls === "up" ? "down" : "up";
    var title = ch && ch.value !== null && ch.value !== undefined ? fmtValue(ch.value, rate) : "—";
    return el("td", { "class": cls, title: title }, f.text);
  }
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

  // --- renderers ---------------------------------------------------------
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

  function compareKey(row) { return row.dept ? row.region + ":" + row.dept : row.region; }

  function compareBox(row) {
    var td = el("td", { "class": "l" });
    var box = el("input", { type: "checkbox", title: T.compare, "aria-label": T.compare });
    var k = compareKey(row);
    box.checked = state.compare.indexOf(k) >= 0;
    box.addEventListener("click", function (e) { e.stopPropagation(); });
    box.addEventListener("change", function () {
      var list = state.compare.filter(function (x) { return x !== k; });
      if (box.checked) list.push(k);
      go({ compare: list.slice(-4) });
    });
    td.appendChild(box);
    return td;
  }

  function drillable(row) { return !row.dept && row.region; }

  function bindDrill(tr, row) {
    if (!drillable(row)) return;
    tr.classList.add("drill");
    tr.addEventListener("click", function () { go({ region: row.region, level: "", by: "" }); });
  }

  function renderRanking(r) {
    var rate = r.indicator.rate, low = r.indicator.lower_is_better;
    $("ranking-title").textContent = indName(r.indicator) + " · " + T.ranking + " · " + r.region.name;
    $("chart-title").textContent = indName(r.indicator);
    var tgt = r.rule ? " · " + T.target + " " + fmtValue(r.rule.target, rate) + " · " + T.floor + " " + fmtValue(r.rule.floor, rate) : "";
    $("summary").replaceChildren(document.createTextNode(T.total + " "), el("b", null, fmtValue(r.total.value, rate)),
      document.createTextNode(tgt + " · " + T.as_of + " " + r.as_of.slice(0, 16).replace("T", " ") + (r.live ? " (" + T.live + ")" : "")));
    var table = $("ranking");
    head(table, [[T.rank], [T.unit, "l"], [T.value], [T.numerator], [T.denominator], [T.status, "l"], [T.mom], [T.yoy], [T.compare, "l"]]);
    var body = el("tbody");
    r.rows.forEach(function (row) {
      var tr = el("tr", { "data-unit": row.unit, "data-region": row.region });
      tr.appendChild(el("td", null, row.rank === null ? "—" : row.rank));
      tr.appendChild(nameCell(row.name, row.unit));
      tr.appendChild(el("td", { "class": row.status }, fmtValue(row.value, rate)));
      tr.appendChild(el("td", null, fmtInt(row.numerator)));
      tr.appendChild(el("td", null, rate ? fmtInt(row.denominator) : "—"));
      tr.appendChild(statusCell(row.status));
      tr.appendChild(changeCell(row.mom, rate, low));
      tr.appendChild(changeCell(row.yoy, rate, low));
      tr.appendChild(compareBox(row));
      bindDrill(tr, row);
      body.appendChild(tr);
    });
    if (!r.rows.length) {
      var tr = el("tr", { "class": "empty" });
      tr.appendChild(el("td", { colspan: 9, "class": "l muted" }, T.no_rows));
      body.appendChild(tr);
    }
    table.replaceChild(body, table.tBodies[0]);
    var chart = echarts.getInstanceByDom($("rankchart"));
    chart.setOption({
      textStyle: { fontFamily: font }, legend: { show: false },
      xAxis: [{ data: r.rows.map(function (x) { return x.name; }) }],
      yAxis: [{ axisLabel: { formatter: rate ? "{value}%" : "{value}" } }],
      dataZoom: r.rows.length > 40 ? [{ type: "slider", start: 0, end: Math.min(100, 4000 / r.rows.length) }, { type: "inside" }] : [],
      series: [{
        name: indName(r.indicator), type: "bar",
        data: r.rows.map(function (x) {
          return { name: x.name, value: x.value === null ? "-" : (rate ? Math.round(x.value * 10000) / 100 : x.value), itemStyle: { color: colors[x.status || ""] } };
        }),
        markLine: r.rule ? { symbol: "none", lineStyle: { color: "#38bdf8" }, label: { formatter: T.target, position: "insideEndTop" },
          data: [{ yAxis: rate ? Math.round(r.rule.target * 10000) / 100 : r.rule.target }] } : { data: [] }
      }]
    }, { replaceMerge: ["dataZoom"] });
  }

  function tierColor(tier, tiers) {
    if (!tier) return colors[""];
    if (tiers.length && tier === tiers[0].name) return colors.green;
    if (tiers.length && tier === tiers[tiers.length - 1].name) return colors.red;
    return colors.amber;
  }

  function renderComposite(r) {
    $("ranking-title").textContent = T.composite + " · " + T.ranking + " · " + r.region.name;
    $("chart-title").textContent = T.composite;
    $("summary").replaceChildren(document.createTextNode(T.total + " "), el("b", null, fmtScore(r.total.score)),
      document.createTextNode(" " + (en() ? r.total.tier_en : r.total.tier) + " · " + T.as_of + " " + r.as_of.slice(0, 16).replace("T", " ") + (r.live ? " (" + T.live + ")" : "")));
    var table = $("ranking");
    head(table, [[T.rank], [T.unit, "l"], [T.score], [T.tier, "l"], [T.mom], [T.yoy], [T.compare, "l"]]);
    var body = el("tbody");
    r.rows.forEach(function (row) {
      var tr = el("tr", { "data-unit": row.unit, "data-region": row.region });
      tr.appendChild(el("td", null, row.rank === null ? "—" : row.rank));
      tr.appendChild(nameCell(row.name, row.unit));
      tr.appendChild(el("td", null, fmtScore(row.score)));
      tr.appendChild(el("td", { "class": "l" }, (en() ? row.tier_en : row.tier) || "—"));
      tr.appendChild(changeCell({ change: row.mom.change, value: row.mom.score }, false, false));
      tr.appendChild(changeCell({ change: row.yoy.change, value: row.yoy.score }, false, false));
      tr.appendChild(compareBox(row));
      bindDrill(tr, row);
      body.appendChild(tr);
    });
    if (!r.rows.length) {
      var tr = el("tr", { "class": "empty" });
      tr.appendChild(el("td", { colspan: 7, "class": "l muted" }, T.no_rows));
      body.appendChild(tr);
    }
    table.replaceChild(body, table.tBodies[0]);
    echarts.getInstanceByDom($("rankchart")).setOption({
      textStyle: { fontFamily: font }, legend: { show: false },
      xAxis: [{ data: r.rows.map(function (x) { return x.name; }) }],
      yAxis: [{ axisLabel: { formatter: "{value}" } }],
      dataZoom: r.rows.length > 40 ? [{ type: "slider", start: 0, end: Math.min(100, 4000 / r.rows.length) }, { type: "inside" }] : [],
      series: [{
        name: T.composite, type: "bar", markLine: { data: [] },
        data: r.rows.map(function (x) {
          return { name: x.name, value: x.score === null ? "-" : Math.round(x.score * 100) / 100, itemStyle: { color: tierColor(x.tier, r.tiers) } };
        })
      }]
    }, { replaceMerge: ["dataZoom"] });
  }

  function renderTrend(t) {
    var chart = echarts.getInstanceByDom($("trendchart"));
    $("trend-empty").hidden = !!t;
    $("trendchart").style.visibility = t ? "visible" : "hidden";
    if (!t) return;
    var rate = t.indicator.rate;
    $("trend-title").textContent = T.trend + " · " + indName(t.indicator) + " · " + t.region.name;
    chart.setOption({
      textStyle: { fontFamily: font }, legend: { show: false },
      xAxis: [{ data: t.points.map(function (p) { return (p.period_start || p.time).slice(0, 10); }) }],
      yAxis: [{ axisLabel: { formatter: rate ? "{value}%" : "{value}" } }],
      series: [{
        name: indName(t.indicator), type: "line",
        data: t.points.map(function (p) { return p.value === null ? "-" : (rate ? Math.round(p.value * 10000) / 100 : p.value); }),
        markLine: t.rule ? { symbol: "none", lineStyle: { color: "#38bdf8" }, label: { formatter: T.target, position: "insideEndTop" },
          data: [{ yAxis: rate ? Math.round(t.rule.target * 10000) / 100 : t.rule.target }] } : { data: [] }
      }]
    });
  }

  function compositeLine(c) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("span", { "class": "score" }, fmtScore(c.score)));
    frag.appendChild(document.createTextNode(T.composite + " · " + ((en() ? c.tier_en : c.tier) || "—")));
    return frag;
  }

  function renderUnit(u) {
    $("unit-title").textContent = T.unit_panel + " · " + u.unit.name + (u.dept ? " · " + u.dept : "");
    $("unit-composite").replaceChildren(compositeLine(u.composite));
    var table = $("unit");
    head(table, [[T.indicator, "l"], [T.value], [T.numerator], [T.denominator], [T.target], [T.status, "l"], [T.mom], [T.yoy]]);
    var body = el("tbody");
    u.indicators.forEach(function (x) {
      var rate = x.indicator.rate;
      var tr = el("tr", { "data-indicator": x.indicator.id, "class": "drill" });
      tr.appendChild(el("td", { "class": "l" }, indName(x.indicator)));
      tr.appendChild(el("td", { "class": x.status }, fmtValue(x.value, rate)));
      tr.appendChild(el("td", null, fmtInt(x.numerator)));
      tr.appendChild(el("td", null, rate ? fmtInt(x.denominator) : "—"));
      tr.appendChild(el("td", null, x.rule ? fmtValue(x.rule.target, rate) : "—"));
      tr.appendChild(statusCell(x.status));
      tr.appendChild(changeCell(x.mom, rate, x.indicator.lower_is_better));
      tr.appendChild(changeCell(x.yoy, rate, x.indicator.lower_is_better));
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
    units.forEach(function (u) { tr.appendChild(el("td", null, fmtScore(u.composite.score) + " " + ((en() ? u.composite.tier_en : u.composite.tier) || ""))); });
    body.appendChild(tr);
    units[0].indicators.forEach(function (x, i) {
      var row = el("tr");
      row.appendChild(el("td", { "class": "l" }, indName(x.indicator)));
      units.forEach(function (u) {
        var y = u.indicators[i];
        row.appendChild(el("td", { "class": y.status }, fmtValue(y.value, y.indicator.rate)));
      });
      body.appendChild(row);
    });
    table.replaceChild(body, table.tBodies[0]);
  }

  function syncControls() {
    $("f-indicator").value = state.indicator;
    $("f-period").value = state.period;
    $("f-as_of").value = state.as_of && state.as_of.length === 10 ? state.as_of : "";
    $("f-by").value = state.by;
    $("f-region").value = state.region;
    var lv = $("f-level");
    var depth = { province: 1, city: 2, county: 3, township: 4 }[data.region.level] || 1;
    var levels = [["", T.level_], ["city", T.level_city], ["county", T.level_county], ["township", T.level_township]];
    lv.replaceChildren();
    levels.forEach(function (l, i) {
      if (i > 0 && i + 1 <= depth) return;
      var o = el("option", { value: l[0] }, l[1]);
      if (l[0] === state.level) o.selected = true;
      lv.appendChild(o);
    });
    lv.disabled = state.by === "dept";
    var q = query(state, viewKeys);
    $("export-csv").href = "/api/export/ranking.csv?" + q;
    $("export-xlsx").href = "/api/export/ranking.xlsx?" + q;
    $("lang").href = pageURL(Object.assign({}, state, { lang: en() ? "" : "en" }));
  }

  function render() {
    renderBreadcrumb(data.region);
    if (data.composite) renderComposite(data.composite); else renderRanking(data.ranking);
    renderTrend(data.trend || null);
    renderUnit(data.unit);
    renderCompare(data.compare || []);
    syncControls();
    var err = $("error");
    err.hidden = !data.error;
    err.textContent = data.error || "";
    document.body.setAttribute("data-region", data.region.code);
    document.body.setAttribute("data-view", pageURL(state));
  }

  // --- loading -----------------------------------------------------------
  function getJSON(url) {
    return fetch(url).then(function (res) {
      return res.json().then(function (body) {
        if (!res.ok) throw new Error(body.error || res.statusText);
        return body;
      });
    });
  }

  function load(s, push) {
    var my = ++seq;
    document.body.setAttribute("data-loading", "1");
    var composite = s.indicator === "composite";
    var q = query(s, viewKeys);
    var unitQ = query(s, ["period", "as_of"]);
    var to = s.as_of ? "&to=" + encodeURIComponent(s.as_of) : "";
    var reqs = [
      getJSON((composite ? "/api/composite?" + query(s, ["period", "region", "level", "by", "as_of"]) : "/api/ranking?" + q)),
      getJSON("/api/regions/" + s.region),
      getJSON("/api/units/" + s.region + "?" + unitQ),
      composite ? Promise.resolve(null) : getJSON("/api/trend?" + query(s, ["indicator", "region", "period"]) + to),
      Promise.all(s.compare.map(function (k) {
        var parts = k.split(":");
        return getJSON("/api/units/" + parts[0] + "?" + unitQ + (parts[1] ? "&dept=" + encodeURIComponent(parts[1]) : ""));
      }))
    ];
    return Promise.all(reqs).then(function (res) {
      if (my !== seq) return;
      state = s;
      data = { state: s, region: res[1], unit: res[2], trend: res[3], compare: res[4] };
      if (composite) data.composite = res[0]; else data.ranking = res[0];
      if (push) history.pushState(s, "", pageURL(s));
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

  function go(change) {
    var s = Object.assign({}, state, change);
    if (s.by === "dept") s.level = "";
    load(s, true);
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
  window.addEventListener("popstate", function () { load(fromURL(), false); });
  window.addEventListener("resize", function () {
    ["rankchart", "trendchart"].forEach(function (id) { echarts.getInstanceByDom($(id)).resize(); });
  });
  history.replaceState(state, "", pageURL(state));
  render();
  requestAnimationFrame(function () {
    performance.mark("console-ready");
    document.body.setAttribute("data-ready", "1");
  });
})();
