"""Choose what a handout shows and compose its HTML: the view, template data, the sandbox, gettext."""
