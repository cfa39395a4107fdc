// surge: the hotline categories surging in the region and below, from the
// surge topic (a live.SurgeBoard: strongest first, as the server orders
// them, baseline, excess and start time already written as shown). Window and method are
// classes and data-* attributes for the style to colour; the words come
// from the config. Drawn as surge.go's template draws it.
Wall.kind("surge", function (w, wall) {
  "use strict";
  var cfg = w.cfg, T = cfg.t, root = wall.section(w.id).querySelector(".surge");
  var list = root.querySelector(".sg-list"), more = root.querySelector(".sg-more");

  function word(prefix, code) { return wall.word(T, prefix, code); }
  function fill(key, value) { return wall.fill(T[key], value); }

  function render(board) {
    var rows = (board && board.rows) || [];
    root.dataset.count = String(rows.length);
    root.querySelector(".sg-total").textContent = fill("total", rows.length);
    list.textContent = "";
    if (!rows.length) {
      var none = document.createElement("li");
      none.className = "sg-none";
      none.textContent = T.none;
      list.appendChild(none);
    }
    rows.slice(0, cfg.rows).forEach(function (r) {
      var li = document.createElement("li");
      li.className = "sg win-" + r.window;
      li.dataset.category = r.category;
      li.dataset.region = r.region;
      li.dataset.window = r.window;
      li.dataset.method = r.method;
      var line = document.createElement("div");
      line.className = "sg-line";
      wall.span(line, "sg-cat", r.category);
      wall.span(line, "sg-region", r.region_name || r.region);
      wall.span(line, "sg-win", word("win.", r.window));
      wall.span(line, "sg-count", fill("count", r.count));
      wall.span(line, "sg-base", fill("baseline", r.expected_text));
      wall.span(line, "sg-excess", r.excess_text);
      li.appendChild(line);
      var meta = document.createElement("div");
      meta.className = "sg-meta";
      wall.span(meta, "sg-method", word("m.", r.method));
      wall.span(meta, "sg-since", fill("since", r.since_clock));
      li.appendChild(meta);
      list.appendChild(li);
    });
    var extra = rows.length - cfg.rows;
    more.hidden = extra <= 0;
    more.textContent = extra > 0 ? fill("more", extra) : "";
  }

  wall.on(cfg.topic, function (board) { wall.later(w.id, function () { render(board); }); });
});
