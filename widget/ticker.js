// ticker: the newest hotline tickets of the ticker topic (a list of
// live.Line, newest first); a ticket not shown before flashes.
Wall.kind("ticker", function (w, wall) {
  "use strict";
  var cfg = w.cfg, T = cfg.t, ul = wall.section(w.id).querySelector(".ticker");
  var seen = new Set(), first = true;

  function render(lines) {
    ul.textContent = "";
    lines = (lines || []).slice(0, cfg.rows);
    if (!lines.length) {
      var e = document.createElement("li"); e.className = "empty"; e.textContent = T.none; ul.appendChild(e);
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
  }
  render([]);
  first = true; // the snapshot is not news
  wall.on(cfg.topic, render);
});
