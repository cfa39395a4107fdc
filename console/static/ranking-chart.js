// The ranking chart page: paints the chart whose ECharts option the server
// composed (go-echarts), and nothing else.
(function () {
  "use strict";
  var el = document.getElementById("ranking");
  var option = JSON.parse(document.getElementById("ranking-option").textContent);
  echarts.init(el, el.dataset.theme, { renderer: "canvas" }).setOption(option);
})();
