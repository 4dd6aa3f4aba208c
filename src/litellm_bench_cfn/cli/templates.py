"""`validate` and `render`: a spec checked, and the profiles (or one spec) rendered to templates/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..exit_codes import EXIT_CHECK_FAILED, EXIT_OK
from ..harness.scripts import HarnessSources
from ..harness.template import build_harness_template
from ..profiles import Profile, load_profiles
from ..render import TEMPLATE_BODY_LIMIT, TEMPLATE_URL_LIMIT, to_yaml
from ..spec import SpecError, load_spec, spec_to_json
from ..template import build_template
from .common import warn


def cmd_validate(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec_file)
    if args.show:
        print(spec_to_json(spec))
    print(
        f"{args.spec_file}: valid ({spec.name}: {spec.tasks.desired_count} tasks x {spec.tasks.cpu} CPU / "
        f"{spec.tasks.memory} MiB, {spec.litellm.workers} workers, DB {spec.database.instance_class}, "
        f"pool limit {spec.pool_limit}/worker)"
    )
    return EXIT_OK


def _selected_profiles(args: argparse.Namespace) -> list[Profile]:
    if args.spec:
        return [Profile(source=Path(args.spec), spec=load_spec(args.spec))]
    return load_profiles(Path(args.profiles_dir))


def _documents(profile: Profile, harness_sources: HarnessSources | None) -> list[tuple[str, str]]:
    """(template file name, YAML) for a profile: its stack and, when enabled, its benchmark harness."""
    documents = [(profile.template_name, to_yaml(build_template(profile.spec)))]
    if profile.harness_template_name and harness_sources is not None:
        harness = build_harness_template(profile.spec, harness_sources)
        documents.append((profile.harness_template_name, to_yaml(harness)))
    return documents


def cmd_render(args: argparse.Namespace) -> int:
    out_dir = Path(args.out_dir)
    problems: list[str] = []
    profiles = _selected_profiles(args)
    # The harness ships the fake endpoint and the locustfile as text: read once, here at the edge.
    harness_sources = None
    if not args.stdout and any(p.harness_template_name for p in profiles):
        try:
            harness_sources = HarnessSources.from_package()
        except FileNotFoundError as exc:
            raise SpecError([f"render: {exc}"], exit_code=EXIT_CHECK_FAILED) from None
    for profile in profiles:
        for name, text in _documents(profile, harness_sources):
            size = len(text.encode())
            target = out_dir / name
            if size > TEMPLATE_BODY_LIMIT and not args.check:
                warn(
                    f"warning: {target}: {size} bytes is over the {TEMPLATE_BODY_LIMIT}-byte --template-body limit; "
                    "deploy it through S3 (scripts/deploy.sh uploads it, publish and launch-url use S3 URLs)"
                )
            if size > TEMPLATE_URL_LIMIT:
                problems.append(f"{target}: {size} bytes exceeds CloudFormation's {TEMPLATE_URL_LIMIT}-byte limit")
                continue
            if args.check:
                current = target.read_text(encoding="utf-8") if target.exists() else None
                if current != text:
                    state = "missing" if current is None else "differs from a fresh render"
                    problems.append(f"{target}: {state}; run `litellm-bench-cfn render` and commit it")
                continue
            if args.stdout:
                sys.stdout.write(text)
                continue
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target} ({size} bytes) from {profile.source or 'the embedded benchmark defaults'}")
    if problems:
        for line in problems:
            warn(line)
        return EXIT_CHECK_FAILED
    if args.check:
        print("templates are up to date")
    return EXIT_OK


def register(sub: Any) -> None:
    validate = sub.add_parser("validate", help="check a spec file; one line per problem")
    validate.add_argument("spec_file")
    validate.add_argument("--show", action="store_true", help="print the full spec with every default")
    validate.set_defaults(handler=cmd_validate)

    render = sub.add_parser("render", help="render the profiles (or one spec) to templates/")
    render.add_argument("--spec", help="render this spec file only (default: every file in --profiles-dir)")
    render.add_argument("--profiles-dir", default="profiles")
    render.add_argument("--out-dir", default="templates")
    render.add_argument("--check", action="store_true", help="fail if a committed template differs")
    render.add_argument("--stdout", action="store_true", help="print the YAML instead of writing files")
    render.set_defaults(handler=cmd_render)
