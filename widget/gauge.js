// gauge: each gauge follows its Value topic: the ring to the value in
// display units, in its status colour, and the server's text.
Wall.kind("gauge", function (w, wall) {
  "use strict";
  var listed = wall.section(w.id).querySelectorAll(".values .val");
  w.cfg.gauges.forEach(function (g, i) {
    var c = wall.chart(g.chart);
    function paint(v) {
      wall.paint(listed[i], v);
      wall.later(g.chart.id, function () {
        c.setOption({ series: [{
          progress: { itemStyle: { color: wall.color(v.status) || wall.accent } },
          detail: { formatter: v.text },
          data: [{ name: g.name, value: v.display === null ? "-" : v.display }]
        }] });
      });
    }
    paint(g.value);
    wall.on(g.topic, paint);
  });
});
