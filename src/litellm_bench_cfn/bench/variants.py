"""Named proxy configurations `bench compare` runs against each other.

Each starts from the container the template ships and changes only what the name says, so a
comparison isolates one setting. `shipped` is the template unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from ..proxy_config import GUNICORN_FLAG
from .litellm_versions import check_version
from .local_stack import ProxyVariant

VARIANTS: dict[str, ProxyVariant] = {
    variant.name: variant
    for variant in (
        ProxyVariant(name="shipped"),
        # Seed 001/003's stack runs the proxy with --detailed_debug (on LiteLLM's default server).
        ProxyVariant(name="seeds-detailed-debug", drop_flags=(GUNICORN_FLAG,), extra_flags=("--detailed_debug",)),
        # AWS's guidance stack sets LITELLM_LOG=DEBUG (on LiteLLM's default server).
        ProxyVariant(name="aws-guidance-debug-log", drop_flags=(GUNICORN_FLAG,), env={"LITELLM_LOG": "DEBUG"}),
        # LiteLLM out of the box: no production env, config with the models and the key only.
        ProxyVariant(
            name="litellm-defaults",
            drop_flags=(GUNICORN_FLAG,),
            env={"LITELLM_LOG": None, "LITELLM_MODE": None},
            config_patch={
                "model_list": [
                    {
                        "model_name": "fake-openai-endpoint",
                        "litellm_params": {
                            "model": "openai/any",
                            "api_key": "test",
                            "api_base": "os.environ/BENCHMARK_API_BASE",
                        },
                    }
                ],
                "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
            },
            replace_config=True,
        ),
        ProxyVariant(name="max-requests-before-restart-10000", extra_flags=("--max_requests_before_restart", "10000")),
        # uvicorn's own keep-alive (5 s; the last --keepalive_timeout wins): below the ALB's idle timeout.
        ProxyVariant(name="uvicorn-keepalive-5", extra_flags=("--keepalive_timeout", "5")),
        ProxyVariant(name="granian", extra_flags=("--run_granian",)),
        # The shipped server until run 5 (docs/performance.md); gunicorn ignores the uvicorn-only flags.
        ProxyVariant(name="gunicorn", extra_flags=(GUNICORN_FLAG,)),
        ProxyVariant(name="no-aiohttp-transport", env={"DISABLE_AIOHTTP_TRANSPORT": "True"}),
        ProxyVariant(name="json-logs", config_patch={"litellm_settings": {"json_logs": True}}),
    )
}


def variant_named(name: str) -> ProxyVariant:
    """A variant by name; `NAME@VERSION` runs it on another LiteLLM release (e.g. shipped@1.109.3)."""
    base_name, _, version = name.partition("@")
    try:
        variant = VARIANTS[base_name]
    except KeyError:
        raise ValueError(
            f"unknown proxy variant {base_name!r}; choose one of {', '.join(VARIANTS)} (optionally @LITELLM_VERSION)"
        ) from None
    if not version:
        return variant
    return replace(variant, name=name, litellm_version=check_version(version))
