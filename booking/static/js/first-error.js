// After a refused submit, the cursor goes to the first field that needs fixing (its message
// is beside it); a screen reader then reads that field and its message first.
(function () {
  var field = document.querySelector(
    ".has-error input:not([type=hidden]), .has-error select, .has-error textarea, [aria-invalid=true]");
  if (field && typeof field.focus === "function") { field.focus(); }
})();
