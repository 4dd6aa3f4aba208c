"""Profiles: spec files under `profiles/`, each rendered to its own template under `templates/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .spec import BenchmarkSpec, SpecError, load_spec

BENCHMARK_PROFILE = "benchmark"


@dataclass(frozen=True)
class Profile:
    source: Path | None
    spec: BenchmarkSpec

    @property
    def template_name(self) -> str:
        if self.spec.name == BENCHMARK_PROFILE:
            return "cloudformation-ecs.yaml"
        return f"cloudformation-ecs-{self.spec.name}.yaml"

    @property
    def harness_template_name(self) -> str | None:
        """The in-VPC benchmark harness template (a second stack), when `harness.enabled`."""
        if not self.spec.harness.enabled:
            return None
        return self.template_name.removesuffix(".yaml") + "-harness.yaml"


def load_profiles(directory: Path) -> list[Profile]:
    """Every `*.yaml`/`*.yml`/`*.json` in `directory`, sorted by file name; the embedded
    benchmark defaults when the directory does not exist. Raises SpecError on a bad file."""
    if not directory.is_dir():
        return [Profile(source=None, spec=BenchmarkSpec())]
    files = sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    if not files:
        raise SpecError([f"{directory}: no profile files (*.yaml, *.yml, *.json) in it"])
    profiles = [Profile(source=path, spec=load_spec(path)) for path in files]
    names: dict[str, Path | None] = {}
    for profile in profiles:
        if profile.spec.name in names:
            raise SpecError(
                [f"{profile.source}: name {profile.spec.name!r} is also used by {names[profile.spec.name]}"]
            )
        names[profile.spec.name] = profile.source
    return profiles
