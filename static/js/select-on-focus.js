/* Selects the whole value of a [data-select-on-focus] field when it gets focus (no inline handlers: CSP). */
(function () {
  "use strict";
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field && field.matches && field.matches("[data-select-on-focus]") && field.select) {
      field.select();
    }
  });
})();
