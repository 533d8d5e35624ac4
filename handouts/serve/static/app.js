// The front desk's page works without this file. With it, changing a choice shows its preview at once.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("choices");
  if (!form) return;
  for (const control of form.querySelectorAll("select, input[type=checkbox]")) {
    control.addEventListener("change", () => form.requestSubmit());
  }
});
