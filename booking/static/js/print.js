// A page worth keeping on paper (a day's appointments, a complaint's protocol) offers the
// browser's print dialog, which also saves a PDF. The button comes hidden: without
// scripts it would do nothing, and the browser's own menu prints the page just as well.
(function () {
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].closest(".print-action").hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();
