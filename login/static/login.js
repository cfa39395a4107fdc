// Yiping sign-in: posts the form as JSON and goes where the server said
// to. The server decides every message; this only shows it.
(function () {
  "use strict";
  var form = document.getElementById("login");
  var err = document.getElementById("error");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    err.hidden = true;
    fetch("/api/login?lang=" + encodeURIComponent(form.dataset.lang), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ name: form.elements.name.value, password: form.elements.password.value })
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (r.ok) { location.assign(form.dataset.next || "/"); return; }
      err.textContent = r.body.error || "";
      err.hidden = false;
      button.disabled = false;
    }, function () {
      err.textContent = form.dataset.lang === "en" ? "The server cannot be reached." : "无法连接服务器。";
      err.hidden = false;
      button.disabled = false;
    });
  });
})();
