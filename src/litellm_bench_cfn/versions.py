"""The one place that pins the versions the template, the tests and the local benchmark share."""

LITELLM_VERSION = "1.106.2"
LITELLM_IMAGE_REPOSITORY = "ghcr.io/berriai/litellm-database"
LITELLM_IMAGE_TAG = f"main-v{LITELLM_VERSION}"
LOCUST_VERSION = "2.47.0"
POSTGRES_ENGINE_VERSION = "16.13"
POSTGRES_PARAMETER_FAMILY = "postgres16"
