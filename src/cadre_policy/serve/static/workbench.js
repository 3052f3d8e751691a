// Every page: the 显示代码 switch shows or hides the codes (rule ids, outcome codes, fact paths, digests).
(function () {
  var button = document.getElementById("show-codes");
  if (!button) return;
  function show(on) {
    document.body.classList.toggle("show-codes", on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "隐藏代码" : "显示代码";
  }
  show(window.localStorage.getItem("show-codes") === "1");
  button.addEventListener("click", function () {
    var on = !document.body.classList.contains("show-codes");
    window.localStorage.setItem("show-codes", on ? "1" : "0");
    show(on);
  });
})();
