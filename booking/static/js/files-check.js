// Complaint files checked before the form leaves: a body over the server's limit would be
// refused before the server could read (and give back) what was typed.
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var warning = document.getElementById(input.id + "-aviso");
    var maxFiles = parseInt(input.dataset.maxFiles, 10);
    var maxBytes = parseInt(input.dataset.maxBytes, 10);
    var megabytes = (maxBytes / 1048576).toLocaleString("pt-BR", {maximumFractionDigits: 1});

    function problem() {
      if (input.files.length > maxFiles) {
        return "Escolha no máximo " + maxFiles + " arquivos (" + input.files.length + " escolhidos).";
      }
      for (var i = 0; i < input.files.length; i++) {
        if (input.files[i].size > maxBytes) {
          return input.files[i].name + ": o arquivo passa de " + megabytes + " MB.";
        }
      }
      return "";
    }

    function show() {
      var text = problem();
      warning.textContent = text;
      warning.hidden = !text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return text;
    }

    input.addEventListener("change", show);
    input.form.addEventListener("submit", function (event) {
      if (show()) {
        event.preventDefault();
        input.focus();
      }
    });
  });
})();
