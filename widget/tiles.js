// tiles: one number per indicator; each tile follows its Value topic and
// rolls its digits to the text the server sent.
Wall.kind("tiles", function (w, wall) {
  "use strict";
  var els = wall.section(w.id).querySelectorAll(".tile-value .val");

  // odometer writes text as columns of digits that roll to their place.
  function odometer(el, text) {
    var chars = Array.from(text);
    var same = el.classList.contains("odo") && el.childNodes.length === chars.length;
    for (var i = 0; same && i < chars.length; i++) {
      if (/[0-9]/.test(chars[i]) !== el.childNodes[i].classList.contains("dg")) same = false;
    }
    if (!same) {
      el.classList.add("odo");
      el.textContent = "";
      chars.forEach(function (c) {
        var s = document.createElement("span");
        if (/[0-9]/.test(c)) {
          s.className = "dg";
          var st = document.createElement("span");
          st.className = "st";
          for (var d = 0; d <= 9; d++) { var x = document.createElement("span"); x.textContent = d; st.appendChild(x); }
          s.appendChild(st);
        } else { s.className = "ch"; s.textContent = c; }
        el.appendChild(s);
      });
    }
    chars.forEach(function (c, i) {
      var node = el.childNodes[i];
      if (node.classList.contains("dg")) node.firstChild.style.transform = "translateY(-" + (Number(c) * 10) + "%)";
      else node.textContent = c;
    });
    el.setAttribute("aria-label", text);
  }

  w.cfg.topics.forEach(function (topic, i) {
    wall.on(topic, function (v) { wall.paint(els[i], v, odometer); });
  });
});
