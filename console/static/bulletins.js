// The bulletins page: lists the archive from GET /api/bulletins with the
// search form's values, every text set as text; prints one now with POST
// /api/bulletins/issue, showing progress. No markup is built from data.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var body = document.body;
  var t = function (k) { return body.getAttribute("data-t-" + k) || k; };
  var api = body.getAttribute("data-api");
  var lang = body.getAttribute("data-lang");
  var fields = ["from", "to", "region", "type", "q"];

  function query() {
    var q = new URLSearchParams();
    fields.forEach(function (f) {
      var v = $("f-" + f).value.trim();
      if (v) q.set(f, v);
    });
    return q;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function when(s) {
    var d = new Date(s);
    if (isNaN(d)) return "";
    return d.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  function load() {
    var q = query();
    $("status").textContent = t("loading");
    body.removeAttribute("data-ready");
    return fetch(api + "?" + q.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) throw new Error(data.error || res.status);
          return data;
        });
      })
      .then(function (data) {
        var rows = $("rows");
        rows.textContent = "";
        data.bulletins.forEach(function (b) {
          var tr = document.createElement("tr");
          tr.setAttribute("data-id", b.id);
          cell(tr, b.title, "l");
          cell(tr, lang === "en" ? b.type : b.type_name, "l");
          cell(tr, b.region_name + " " + b.region, "l");
          cell(tr, b.period_label, "l");
          cell(tr, String(b.pages));
          cell(tr, when(b.generated_at));
          var a = document.createElement("a");
          a.href = b.url;
          a.className = "download";
          a.setAttribute("download", "");
          a.textContent = t("download");
          cell(tr, "").appendChild(a);
          rows.appendChild(tr);
        });
        var s = data.bulletins.length ? String(data.bulletins.length) : t("none");
        if (data.more) s = t("more").replace("%d", data.bulletins.length);
        $("status").textContent = s;
        history.replaceState(null, "", location.pathname + "?" + (function () { q.set("lang", lang); return q.toString(); })());
        body.setAttribute("data-ready", "1");
      })
      .catch(function (err) {
        $("status").textContent = t("error") + err.message;
        body.setAttribute("data-ready", "1");
      });
  }

  $("search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    load();
  });

  var who = null;
  var issue = $("issue");
  if (issue) issue.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = $("i-bulletin").value.split(":");
    var q = new URLSearchParams({ bulletin: v[0], region: v[1] });
    var headers = { Accept: "application/json" };
    if (who && who.csrf) headers["X-CSRF-Token"] = who.csrf;
    $("i-go").disabled = true;
    $("i-status").textContent = t("printing");
    fetch(body.getAttribute("data-issue-api") + "?" + q.toString(), { method: "POST", credentials: "same-origin", headers: headers })
      .then(function (res) {
        return res.json().then(function (data) {
          if (!res.ok) throw new Error(data.error || res.status);
          return data;
        });
      })
      .then(function (b) {
        $("i-status").textContent = t("issued") + b.title;
        return load();
      }, function (err) {
        $("i-status").textContent = t("failed") + err.message;
      })
      .then(function () { $("i-go").disabled = false; });
  });

  var sessionAPI = body.getAttribute("data-session-api");
  if (sessionAPI) fetch(sessionAPI, { credentials: "same-origin" }).then(function (res) {
    return res.ok ? res.json() : null;
  }).then(function (w) {
    if (!w || w.kind !== "user") return;
    who = w;
    $("who-name").textContent = w.name + " · " + (w.region_name || w.region);
    $("who").hidden = false;
    $("logout").addEventListener("click", function () {
      fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": w.csrf } })
        .then(function () { location.assign("/login"); });
    });
  }, function () {});
  load();
})();
