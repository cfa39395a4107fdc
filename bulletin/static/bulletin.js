// Renders a bulletin's charts with ECharts' SVG renderer, animation off,
// and marks the document ready for printing: <html data-ready="1"> once the
// fonts the page uses are loaded and every chart has finished rendering,
// or data-error with the reason. The options come from the server in the
// data-option attribute of each .chart element; this script holds no data.
(function () {
  "use strict";
  var root = document.documentElement;
  function fail(why) {
    root.setAttribute("data-error", String(why));
  }
  function ready() {
    // Text the charts added may need more of the font's slices.
    document.fonts.ready.then(function () {
      requestAnimationFrame(function () {
        root.setAttribute("data-ready", "1");
      });
    }, fail);
  }
  function render() {
    if (typeof echarts === "undefined") {
      fail("echarts did not load");
      return;
    }
    var nodes = document.querySelectorAll(".chart[data-option]");
    var pending = nodes.length;
    if (pending === 0) {
      ready();
      return;
    }
    Array.prototype.forEach.call(nodes, function (el) {
      var option;
      try {
        option = JSON.parse(el.getAttribute("data-option"));
      } catch (e) {
        fail("chart option: " + e);
        return;
      }
      option.animation = false;
      var chart = echarts.init(el, null, { renderer: "svg" });
      var done = false;
      chart.on("finished", function () {
        if (done) {
          return;
        }
        done = true;
        el.setAttribute("data-rendered", "1");
        if (--pending === 0) {
          ready();
        }
      });
      chart.setOption(option);
    });
  }
  // Lay the text out (which starts loading the font slices it needs) and
  // wait for the font before ECharts measures its labels.
  void document.body.offsetHeight;
  document.fonts.ready.then(render, fail);
})();
