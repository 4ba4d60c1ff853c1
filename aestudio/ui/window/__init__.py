"""Parts of the main window, by job: actions and menus, model files, drops, layout."""
