"""LiteLLM's published load benchmark, run on this machine (`bench local`, `bench compare`)."""
