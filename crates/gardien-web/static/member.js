// The member page's overrides table: each row saves itself when its control
// changes (no submit button), and says "Saved" or what went wrong next to it.
// Without this script every row is a form with its own button.
(function () {
  "use strict";
  function csrfToken(form) {
    var field = form.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }
  function show(status, key, kind) {
    status.textContent = status.getAttribute("data-" + key) || "";
    status.className = "save-status small " + kind;
  }
  var forms = document.querySelectorAll("form.override-form");
  Array.prototype.forEach.call(forms, function (form) {
    var select = form.querySelector("select.override-select");
    var button = form.querySelector(".override-submit");
    var status = form.querySelector(".save-status");
    if (!select || !status) { return; }
    if (button) { button.hidden = true; }
    var saved = select.value;
    select.addEventListener("change", function () {
      var body = new URLSearchParams(new FormData(form));
      show(status, "saving", "is-saving");
      select.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "accept": "application/json",
          "content-type": "application/x-www-form-urlencoded",
          "x-csrf-token": csrfToken(form)
        },
        body: body.toString()
      }).then(function (response) {
        if (!response.ok) {
          return response.json().then(function (problem) {
            throw new Error(problem && problem.detail ? problem.detail : "");
          }, function () { throw new Error(""); });
        }
        return response.json();
      }).then(function (result) {
        saved = result.effect;
        select.value = saved;
        show(status, "saved", "is-saved");
      }).catch(function (error) {
        select.value = saved;
        show(status, "failed", "is-error");
        if (error && error.message) { status.textContent += " " + error.message; }
      }).then(function () {
        select.disabled = false;
      });
    });
  });
})();
