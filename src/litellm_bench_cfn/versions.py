"""The one place that pins the versions the template, the tests and the local benchmark share."""

LITELLM_VERSION = "1.106.2"
LITELLM_IMAGE_REPOSITORY = "ghcr.io/berriai/litellm-database"
LITELLM_IMAGE_TAG = f"v{LITELLM_VERSION}"  # LiteLLM tags releases vX.Y.Z (and X.Y.Z) since 1.84
LOCUST_VERSION = "2.47.0"
POSTGRES_ENGINE_VERSION = "16.13"
