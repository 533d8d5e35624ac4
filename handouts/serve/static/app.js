// The front desk's page works without this file. With it, changing a choice shows its preview at
// once, and the keyboard focus comes back to the control that was changed.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("choices");
  if (!form) return;
  const changed = sessionStorage.getItem("handouts-focus");
  if (changed) {
    sessionStorage.removeItem("handouts-focus");
    const control = document.getElementById(changed);
    if (control && form.contains(control)) control.focus();
  }
  for (const control of form.querySelectorAll("select, input[type=checkbox]")) {
    control.addEventListener("change", () => {
      sessionStorage.setItem("handouts-focus", control.id);
      form.requestSubmit();
    });
  }
});
