"""The exit codes every command returns (scripts/deploy.sh's too)."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
"""A check failed, a run failed, or something the command needs was not ready."""
EXIT_BAD_INPUT = 2
"""Bad input: a flag, a spec, a parameter; said in one line, nothing started."""
