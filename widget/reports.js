// reports: the open special reports of the report topic (a Board: most
// severe first, as the server orders them) and how many nobody has
// acknowledged; severity and state are classes and data-* attributes for
// the style to colour. Drawn as reports.go's template draws it.
Wall.kind("reports", function (w, wall) {
  "use strict";
  var cfg = w.cfg, T = cfg.t, root = wall.section(w.id).querySelector(".reports");
  var list = root.querySelector(".rp-list"), more = root.querySelector(".rp-more");

  function text(zh, en) { return cfg.lang === "en" && en ? en : zh; }
  function count(key, n) { return wall.fill(T[key], n); }

  function render(board) {
    var reports = (board && board.reports) || [];
    var unacked = (board && board.unacked) || 0;
    root.dataset.top = reports.length ? reports[0].severity : "";
    root.dataset.unacked = String(unacked);
    root.querySelector(".rp-unacked").textContent = count("unacked", unacked);
    root.querySelector(".rp-total").textContent = count("total", reports.length);
    list.textContent = "";
    if (!reports.length) {
      var none = document.createElement("li");
      none.className = "rp-none";
      none.textContent = T.none;
      list.appendChild(none);
    }
    reports.slice(0, cfg.rows).forEach(function (r) {
      var li = document.createElement("li");
      li.className = "rp sev-" + r.severity;
      li.dataset.id = r.id;
      li.dataset.state = r.state;
      var line = document.createElement("div");
      line.className = "rp-line";
      wall.span(line, "rp-sev", T["sev." + r.severity] || r.severity);
      wall.span(line, "rp-title", text(r.title, r.title_en));
      wall.span(line, "rp-region", r.region_name || r.region);
      wall.span(line, "rp-time", r.fired_text);
      wall.span(line, "rp-state", (T["state." + r.state] || r.state) + (r.acked_by ? " · " + T.acked_by + r.acked_by : ""));
      li.appendChild(line);
      var p = document.createElement("p");
      p.className = "rp-text";
      p.textContent = text(r.text, r.text_en);
      li.appendChild(p);
      list.appendChild(li);
    });
    var extra = reports.length - cfg.rows;
    more.hidden = extra <= 0;
    more.textContent = extra > 0 ? count("more", extra) : "";
  }

  wall.on(cfg.topic, function (board) { wall.later(w.id, function () { render(board); }); });
});
