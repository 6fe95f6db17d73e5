// Password helpers for every <input data-password-tools>: a "generate a strong
// password" button and a strength meter. Loaded as a file (the CSP allows no
// inline script); the labels come from data- attributes of the input, so the
// page's language is kept. Without JavaScript the form works the same.
(function () {
  "use strict";
  var ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!?";

  function generate(length) {
    var out = "";
    var bytes = new Uint8Array(length * 2);
    window.crypto.getRandomValues(bytes);
    for (var i = 0; i < bytes.length && out.length < length; i++) {
      // Rejection sampling keeps every character equally likely.
      if (bytes[i] < 256 - (256 % ALPHABET.length)) {
        out += ALPHABET[bytes[i] % ALPHABET.length];
      }
    }
    return out.length === length ? out : generate(length);
  }

  // A rough entropy estimate in bits: length times log2 of the classes used,
  // less for repeated characters.
  function score(value) {
    if (!value) { return 0; }
    var pool = 0;
    if (/[a-z]/.test(value)) { pool += 26; }
    if (/[A-Z]/.test(value)) { pool += 26; }
    if (/[0-9]/.test(value)) { pool += 10; }
    if (/[^a-zA-Z0-9]/.test(value)) { pool += 33; }
    var distinct = {};
    for (var i = 0; i < value.length; i++) { distinct[value[i]] = true; }
    var effective = Math.min(value.length, Object.keys(distinct).length * 1.5);
    var bits = effective * Math.log2(Math.max(pool, 2));
    if (value.length < 8) { return 0; }
    if (bits < 40) { return 1; }
    if (bits < 60) { return 2; }
    if (bits < 80) { return 3; }
    return 4;
  }

  function setup(input) {
    var labels = (input.getAttribute("data-strength-labels") || "").split("|");
    var wrapper = document.createElement("div");
    wrapper.className = "password-tools";
    var meter = document.createElement("meter");
    meter.min = 0; meter.max = 4; meter.low = 2; meter.high = 3; meter.optimum = 4;
    meter.value = 0;
    meter.id = input.id + "-strength";
    var label = document.createElement("span");
    label.className = "hint";
    label.id = input.id + "-strength-label";
    label.setAttribute("aria-live", "polite");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.id = input.id + "-generate";
    button.textContent = input.getAttribute("data-generate-label") || "Generate";
    wrapper.appendChild(button);
    wrapper.appendChild(meter);
    wrapper.appendChild(label);
    input.insertAdjacentElement("afterend", wrapper);

    function update() {
      var s = score(input.value);
      meter.value = s;
      label.textContent = input.value ? (labels[s] || "") : "";
    }
    input.addEventListener("input", update);
    button.addEventListener("click", function () {
      input.type = "text";
      input.value = generate(20);
      update();
      input.focus();
      input.select();
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("input[data-password-tools]");
    for (var i = 0; i < inputs.length; i++) { setup(inputs[i]); }
  });
})();
