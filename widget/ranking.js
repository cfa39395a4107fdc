// ranking: a carousel of ranking tables, one per indicator, each painting
// the rows of its ranking topic in the order and with the ranks given.
Wall.kind("ranking", function (w, wall) {
  "use strict";
  var lists = Array.from(wall.section(w.id).querySelectorAll(".rank-list"));

  function cell(li, cls) { var s = document.createElement("span"); s.className = cls; li.appendChild(s); return s; }

  // row makes the element of a unit that was not listed yet.
  function row(r, x) {
    var li = document.createElement("li");
    li.className = "rank-row";
    li.dataset.region = x.region;
    cell(li, "rk"); cell(li, "nm");
    cell(li, "bar").appendChild(document.createElement("i"));
    var v = cell(li, "val");
    v.dataset.indicator = r.indicator; v.dataset.region = x.region; v.dataset.period = r.period;
    return li;
  }

  function paint(ol, r) {
    var old = new Map();
    Array.from(ol.children).forEach(function (li) { old.set(li.dataset.region, li); });
    r.rows.forEach(function (x) {
      var li = old.get(x.region) || row(r, x);
      old.delete(x.region);
      li.dataset.rank = String(x.rank);
      li.querySelector(".rk").textContent = x.rank ? String(x.rank) : "—";
      li.querySelector(".nm").textContent = x.name;
      li.querySelector(".bar i").style.width = x.bar + "%";
      wall.paint(li.querySelector(".val"), x);
      ol.appendChild(li); // in the order given
    });
    old.forEach(function (li) { li.remove(); });
  }

  w.cfg.topics.forEach(function (topic, i) {
    var ol = lists[i].querySelector("ol");
    wall.on(topic, function (r) { wall.later(w.id + ":" + i, function () { paint(ol, r); }); });
  });
  if (lists.length > 1 && w.cfg.rotate_ms > 0) {
    var i = 0;
    setInterval(function () {
      lists[i].classList.remove("on");
      i = (i + 1) % lists.length;
      lists[i].classList.add("on");
    }, w.cfg.rotate_ms);
  }
});
