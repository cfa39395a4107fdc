// trend: the daily history; today's point follows the indicator's day
// topic, placed by the payload's date (a new day moves the window on).
Wall.kind("trend", function (w, wall) {
  "use strict";
  var cfg = w.cfg, c = wall.chart(cfg.chart), dates = cfg.dates.slice();
  var today = wall.section(w.id).querySelector(".values .val");
  wall.on(cfg.topic, function (v) {
    wall.paint(today, v);
    wall.later(w.id, function () {
      var opt = c.getOption(), data = opt.series[0].data.slice(), xs = opt.xAxis[0].data.slice();
      var i = dates.indexOf(v.date);
      if (i < 0) {
        if (!v.date || v.date < dates[dates.length - 1]) return;
        dates.push(v.date); dates.shift(); xs.push(v.date.slice(5)); xs.shift(); data.push("-"); data.shift();
        i = dates.length - 1;
      }
      data[i] = v.display === null ? "-" : v.display;
      c.setOption({ xAxis: [{ data: xs }], series: [{ data: data }] });
    });
  });
});
