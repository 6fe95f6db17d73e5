// The invite form: the "new role" fieldset shows only when "New role…" is
// chosen, and "Add a resource" adds a row of resource fields. Without this
// script the fieldset is always shown (and used only when "New role…" is
// chosen) and two blank rows are offered.
(function () {
  "use strict";
  var fieldset = document.getElementById("new-role");
  var select = document.getElementById("role_id");
  if (fieldset && select) {
    var sync = function () { fieldset.hidden = select.value !== "new"; };
    select.addEventListener("change", function () {
      sync();
      if (!fieldset.hidden) {
        var name = document.getElementById("new_role_name");
        if (name) { name.focus(); }
      }
    });
    sync();
  }
  var rows = document.getElementById("assignment-rows");
  var add = document.getElementById("add-assignment");
  if (rows && add) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = rows.querySelector(".assignment-row:last-child");
      if (!last) { return; }
      var index = rows.querySelectorAll(".assignment-row").length;
      var row = last.cloneNode(true);
      row.setAttribute("data-row", String(index));
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
        input.value = "";
        input.id = input.name + "_" + index;
      });
      Array.prototype.forEach.call(row.querySelectorAll("label"), function (label) {
        var input = label.parentNode.querySelector("input");
        if (input) { label.htmlFor = input.id; }
      });
      Array.prototype.forEach.call(row.querySelectorAll(".field"), function (field) {
        field.classList.remove("has-error");
      });
      Array.prototype.forEach.call(row.querySelectorAll(".field-error"), function (error) {
        error.textContent = "";
      });
      rows.appendChild(row);
      var first = row.querySelector("input");
      if (first) { first.focus(); }
    });
  }
})();
