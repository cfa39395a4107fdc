// map: the region's map, each subdivision painted with the status colour
// of its row in the ranking the server publishes (one ranking topic; the
// drilled city's own on drill-down). Regions without a map show the list.
Wall.kind("map", function (w, wall) {
  "use strict";
  var cfg = w.cfg, section = wall.section(w.id);
  var last = new Map();     // ranking topic → its latest payload
  var current = null;       // the drilled subdivision, or null
  var listed = new Map();   // region → its element in the values list
  section.querySelectorAll(".values .val").forEach(function (el) { listed.set(el.dataset.region, el); });
  var c = cfg.chart ? wall.chart(cfg.chart) : null;
  var back = section.querySelector(".back");

  function data(r, features) {
    var out = [];
    (r ? r.rows : []).forEach(function (row) {
      var f = features[row.region];
      if (!f) return;
      var d = { name: f }, color = wall.color(row.status);
      if (row.display !== null) d.value = row.display;
      if (color) d.itemStyle = { areaColor: color };
      out.push(d);
    });
    return out;
  }

  function draw() {
    if (!c) return;
    wall.later(w.id, function () {
      var view = current ? cfg.drill[current] : cfg;
      c.setOption({ series: [{ map: view.map, data: data(last.get(view.topic), view.features) }] });
    });
  }

  function main(r) {
    last.set(cfg.topic, r);
    r.rows.forEach(function (row) {
      var el = listed.get(row.region);
      if (el) wall.paint(el, row);
    });
    draw();
  }
  main(cfg.ranking);
  wall.on(cfg.topic, main);
  if (!c) return;

  var byFeature = {};
  Object.keys(cfg.features).forEach(function (k) { byFeature[cfg.features[k]] = k; });
  var following = new Set();
  c.on("click", function (p) {
    var code = byFeature[p.name], d = code && cfg.drill && cfg.drill[code];
    if (current || !d) return;
    current = code;
    if (!following.has(d.topic)) {
      following.add(d.topic);
      wall.on(d.topic, function (r) { last.set(d.topic, r); draw(); });
    }
    section.dataset.drill = code;
    if (back) back.hidden = false;
    draw();
  });
  if (back) back.addEventListener("click", function () {
    current = null;
    delete section.dataset.drill;
    back.hidden = true;
    draw();
  });
});
