// A staff account's form asks for the magistrate only of a magistrate's account, and for the
// magistrates served only of an assistant's: the other roles do not see (nor send) them.
// Without this script both show and the server keeps what the role needs.
(function () {
  var role = document.getElementById("role");
  if (!role) { return; }
  var parts = [
    {element: document.getElementById("magistrate_id"), role: "magistrate"},
    {element: document.getElementById("assists-lista"), role: "assistant"}
  ];
  function show() {
    parts.forEach(function (part) {
      if (!part.element) { return; }
      var wanted = role.value === part.role;
      part.element.closest(".field").hidden = !wanted;
      part.element.querySelectorAll("input").forEach(function (input) { input.disabled = !wanted; });
      if (part.element.tagName === "SELECT") { part.element.disabled = !wanted; }
    });
  }
  role.addEventListener("change", show);
  show();
})();
