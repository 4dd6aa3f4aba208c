"""The one place that pins the versions the template, the tests and the local benchmark share."""

LITELLM_VERSION = "1.106.2"
LITELLM_IMAGE_REPOSITORY = "ghcr.io/berriai/litellm-database"
LITELLM_IMAGE_TAG = f"v{LITELLM_VERSION}"  # LiteLLM tags releases vX.Y.Z (and X.Y.Z) since 1.84
LOCUST_VERSION = "2.47.0"
POSTGRES_ENGINE_VERSION = "16"
"""The major only: RDS creates the default (supported) minor of it and AutoMinorVersionUpgrade keeps it
current. A pinned minor (e.g. "16.13") stops being creatable when RDS ends its support, so a template
that deployed last month would fail to create today (cfn-lint W3691 flags such versions). Updating a
stack never re-sends an unchanged "16"; a major upgrade is a deliberate change of this value."""
