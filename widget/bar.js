// bar: the best rows of the ranking topic as bars, in the order given,
// each in its status colour.
Wall.kind("bar", function (w, wall) {
  "use strict";
  var cfg = w.cfg, c = wall.chart(cfg.chart);
  var listed = new Map();
  wall.section(w.id).querySelectorAll(".values .val").forEach(function (el) { listed.set(el.dataset.region, el); });

  function paint(r) {
    r.rows.forEach(function (x) { var el = listed.get(x.region); if (el) wall.paint(el, x); });
    var rows = r.rows.slice(0, cfg.rows);
    wall.later(w.id, function () {
      c.setOption({
        xAxis: [{ data: rows.map(function (x) { return x.name; }) }],
        series: [{ data: rows.map(function (x) {
          return x.display === null ? "-" : { value: x.display, itemStyle: { color: wall.color(x.status) || wall.accent } };
        }) }]
      });
    });
  }
  paint(cfg.ranking);
  wall.on(cfg.topic, paint);
});
