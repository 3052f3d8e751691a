// The legislation explorer: filter provisions by rule id, title or quote, as the officer types.
(function () {
  var box = document.getElementById("rule-filter");
  if (!box) return;
  box.addEventListener("input", function () {
    var needle = box.value.trim().toLowerCase();
    document.querySelectorAll(".provision").forEach(function (p) {
      p.hidden = needle !== "" && p.dataset.search.toLowerCase().indexOf(needle) < 0;
    });
  });
})();
