// Draws every chart of the page with vega-embed, in the reader's language, as SVG: no request leaves
// the archive (no editor links, no fonts, no schema fetched).
(function () {
  var lang = document.currentScript.getAttribute("data-lang");
  var vi = lang === "vi";
  var options = {renderer: "svg", actions: false};
  if (vi) {
    options.formatLocale = {decimal: ",", thousands: ".", grouping: [3], currency: ["", " ₫"]};
    options.timeFormatLocale = {
      dateTime: "%A, %d/%m/%Y %H:%M", date: "%d/%m/%Y", time: "%H:%M:%S", periods: ["SA", "CH"],
      days: ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"],
      shortDays: ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
      months: ["tháng 1", "tháng 2", "tháng 3", "tháng 4", "tháng 5", "tháng 6", "tháng 7", "tháng 8",
               "tháng 9", "tháng 10", "tháng 11", "tháng 12"],
      shortMonths: ["Th1", "Th2", "Th3", "Th4", "Th5", "Th6", "Th7", "Th8", "Th9", "Th10", "Th11", "Th12"]
    };
  }
  var figures = document.querySelectorAll("figure[data-chart]");
  var pending = figures.length;
  figures.forEach(function (figure) {
    var spec = JSON.parse(figure.querySelector("script.room-spec").textContent);
    vegaEmbed(figure.querySelector(".room-chart-view"), spec, options).then(function () {
      figure.setAttribute("data-drawn", "true");
    }).catch(function (error) {
      figure.setAttribute("data-error", String(error));
    }).finally(function () {
      if (--pending === 0) { document.body.setAttribute("data-charts-drawn", "true"); }
    });
  });
  if (!pending) { document.body.setAttribute("data-charts-drawn", "true"); }
})();
