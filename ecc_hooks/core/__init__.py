"""The core layer: filesystem locations, safe file I/O, redaction, text sanitising, the process runner,
timestamps, the auto-compaction rule, user errors. Standard library only; imports nothing else of ours."""
