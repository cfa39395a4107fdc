// health: every source with the state the server judged (ok, stale,
// failing, never), how long ago it last succeeded and its failures.
Wall.kind("health", function (w, wall) {
  "use strict";
  var T = w.cfg.t, items = wall.section(w.id).querySelectorAll(".health li");

  function ago(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return Math.round(s) + T.s;
    if (s < 3600) return Math.round(s / 60) + T.min;
    return Math.round(s / 3600) + T.h;
  }

  w.cfg.sources.forEach(function (src, i) {
    var li = items[i];
    wall.on(src.topic, function (h) {
      li.dataset.health = h.state;
      var text = T[h.state] || h.state;
      if (h.state === "ok" || h.state === "stale") text += " · " + ago(h.lag_seconds);
      if (h.state === "failing") text += " ×" + h.consecutive_failures;
      li.querySelector(".src-state").textContent = text;
    });
  });
});
