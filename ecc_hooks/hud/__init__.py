"""The HUD: the pure fold and payload builder (``aggregate``), the reading of one session's inputs
(``inputs``) and the watcher daemon that keeps every ``hud.json`` current (``watcher``)."""
