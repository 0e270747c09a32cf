// After a refused submit, the cursor goes to the first field that needs fixing (its message
// is beside it); a screen reader then reads that field and its message first. A filter's
// search box (choice-filter.js) is not a field to fix.
(function () {
  var field = document.querySelector(
    ".has-error input:not([type=hidden]):not([type=search]), .has-error select, .has-error textarea, [aria-invalid=true]");
  if (field && typeof field.focus === "function") { field.focus(); }
})();
