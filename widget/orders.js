// orders: the open supervision orders (督办单) of the region and below,
// from the orders topic (an OrderBoard: overdue first, as the server
// orders them, each with its timing decided by the server). Timing and
// state are classes and data-* attributes for the style to colour (an
// overdue order is red). Drawn as orders.go's template draws it.
Wall.kind("orders", function (w, wall) {
  "use strict";
  var cfg = w.cfg, T = cfg.t, root = wall.section(w.id).querySelector(".orders");
  var list = root.querySelector(".od-list"), more = root.querySelector(".od-more");

  function word(prefix, code) { return wall.word(T, prefix, code); }
  function count(key, n) { return wall.fill(T[key], n); }

  function render(board) {
    var orders = (board && board.orders) || [];
    var open = (board && board.open) || 0, overdue = (board && board.overdue) || 0;
    root.dataset.overdue = String(overdue);
    root.querySelector(".od-open").textContent = count("open", open);
    root.querySelector(".od-late").textContent = count("overdue", overdue);
    list.textContent = "";
    if (!orders.length) {
      var none = document.createElement("li");
      none.className = "od-none";
      none.textContent = T.none;
      list.appendChild(none);
    }
    var shown = orders.slice(0, cfg.rows);
    shown.forEach(function (o) {
      var li = document.createElement("li");
      li.className = "od t-" + o.timing;
      li.dataset.id = o.id;
      li.dataset.state = o.state;
      li.dataset.timing = o.timing;
      wall.span(li, "od-unit", (o.unit_name || o.unit) + (o.dept ? " · " + o.dept : ""));
      wall.span(li, "od-title", o.title);
      wall.span(li, "od-timing", word("timing.", o.timing));
      wall.span(li, "od-state", word("state.", o.state));
      wall.span(li, "od-due", T.due + o.deadline_text);
      list.appendChild(li);
    });
    var extra = open - shown.length;
    more.hidden = extra <= 0;
    more.textContent = extra > 0 ? count("more", extra) : "";
  }

  wall.on(cfg.topic, function (board) { wall.later(w.id, function () { render(board); }); });
});
