// A long list of checkboxes (the magistrates an assistant serves: hundreds in a court) gets
// a filter: typing part of a name or a unit leaves only the matching ones in view, accents
// and case aside. Those ticked always stay in view, so nothing chosen is ever out of sight.
// Without this script the filter stays hidden and the whole list shows.
(function () {
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.querySelectorAll("input[data-filters]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-filters"));
    var count = document.getElementById(input.getAttribute("aria-describedby"));
    if (!list) { return; }
    var choices = Array.prototype.slice.call(list.querySelectorAll("label.choice"));
    var texts = choices.map(function (choice) { return plain(choice.textContent); });
    function apply() {
      var wanted = plain(input.value.trim());
      var shown = 0;
      choices.forEach(function (choice, index) {
        var keep = !wanted || texts[index].indexOf(wanted) >= 0 ||
          choice.querySelector("input").checked;
        choice.hidden = !keep;
        if (keep) { shown += 1; }
      });
      if (count) {
        count.textContent = wanted ? shown + " de " + choices.length + " exibidos (os marcados aparecem sempre)." : "";
      }
    }
    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // a filter, not the form's submit
    });
    input.closest(".choice-filter").hidden = false;
    apply();
  });
})();
