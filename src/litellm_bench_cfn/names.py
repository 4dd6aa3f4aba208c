"""Names the rendered templates share with the code that reads them back (bench, aws/, compliance).

Logical IDs, output and export keys, container names and environment variables are public API of the
templates: each is spelled once here and imported wherever it is built or read.
"""

from __future__ import annotations

# ---------------------------------------------------------------- template Metadata

TOOL_METADATA = "LitellmBenchCfn"
"""Template Metadata key of what this tool records for its readers (e.g. the load shape compliance checks)."""
LOAD_TEST_METADATA = "load_test"
