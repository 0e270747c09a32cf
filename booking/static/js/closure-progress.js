// A closure's decision over many bookings is applied by the scheduler: follow it here
// without reloading the page. Without this script the page shows where it was when loaded.
(function () {
  var boxes = document.querySelectorAll(".closure-progress[data-progress-url]");
  Array.prototype.forEach.call(boxes, function (box) {
    var bar = box.querySelector("progress");
    var status = box.querySelector("[role=status]");
    function ask() {
      fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin"})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (progress) {
          if (!progress) { return; }
          bar.max = progress.total;
          bar.value = progress.done;
          bar.textContent = progress.done + " de " + progress.total;
          var verb = box.getAttribute("data-verb");
          status.textContent = progress.finished
            ? progress.total + " " + verb + "; concluído."
            : progress.done + " de " + progress.total + " " + verb + "; em andamento.";
          if (!progress.finished) { window.setTimeout(ask, 3000); }
        })
        .catch(function () { window.setTimeout(ask, 10000); });
    }
    window.setTimeout(ask, 2000);
  });
})();
