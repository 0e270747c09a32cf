// The booking and urgent-request forms ask each kind of requester only for what identifies
// them: a lawyer the OAB number, a defender, prosecutor or attorney the institution and
// registration, a party the CPF. Without this script every field shows and the server checks
// what the type needs.
(function () {
  var select = document.getElementById("requester_type");
  var type = select ? select : document.querySelector("input[name=requester_type]");
  if (!type) { return; }
  var fields = {
    oab: ["lawyer"],
    institution: ["public_defender", "prosecutor", "public_attorney"],
    registration: ["public_defender", "prosecutor", "public_attorney"],
    cpf: ["party"]
  };
  function show() {
    Object.keys(fields).forEach(function (name) {
      var input = document.getElementById(name);
      if (!input) { return; }
      var wanted = fields[name].indexOf(type.value) >= 0;
      input.closest(".field").hidden = !wanted;
      input.disabled = !wanted;
    });
  }
  if (select) { select.addEventListener("change", show); }
  show();
})();
