"""The full-screen HUD (`ecc-hooks hud`): Textual; only `tui.keys` and `tui.model` load without it."""
