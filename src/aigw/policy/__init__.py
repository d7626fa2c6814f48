"""Policy: who may call what, how often and for how much; each check returns a decision."""
