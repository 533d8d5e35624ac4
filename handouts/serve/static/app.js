// The front desk's page works without this file. With it, changing a choice (a handout's options,
// the clinic on the search page) shows its result at once, and the keyboard focus comes back to
// the control that was changed.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const forms = document.querySelectorAll("form[data-autosubmit]");
  const changed = sessionStorage.getItem("handouts-focus");
  if (changed) {
    sessionStorage.removeItem("handouts-focus");
    const control = document.getElementById(changed);
    if (control && [...forms].some((form) => form.contains(control))) control.focus();
  }
  for (const form of forms) {
    for (const control of form.querySelectorAll("select, input[type=checkbox]")) {
      control.addEventListener("change", () => {
        sessionStorage.setItem("handouts-focus", control.id);
        form.requestSubmit();
      });
    }
  }
});
