"""Where facts come from: git, GitHub (gh), Claude Code's transcripts (the usage engine)."""
