// Bulk invitations: while the confirmed rows are being invited (one request,
// one transaction), show a progress bar and keep the button from being
// pressed twice. Loaded as a file: the CSP forbids inline scripts.
(function () {
  "use strict";
  var form = document.getElementById("import-confirm-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var button = document.getElementById("import-confirm");
    var progress = document.getElementById("import-progress");
    var text = document.getElementById("import-progress-text");
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    if (progress) {
      progress.hidden = false;
    }
    if (text) {
      text.textContent = form.getAttribute("data-progress") || "";
    }
  });
})();
