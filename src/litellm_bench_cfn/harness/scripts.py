"""The code and start scripts the harness template ships: the fake endpoint, and Locust (master or worker).

Delivery is the proxy config's (proxy_config.py): no image is built. Each container runs a public,
pinned image with its entrypoint replaced by a short POSIX sh script; the product's code travels in
the task definition as a gzip+base64 environment variable that the script decodes to a file. The
scripts use only `sh`, `base64`, `gzip` and `python3`, which the image (ECR Public's mirror of the
Docker official python image) has, and so does the machine the offline test runs them on.

Locust is not published on ECR Public, and Docker Hub rate-limits anonymous pulls per source IP
(every task leaves through the same NAT address), so the Locust tasks run the same python image and
pip-install the pinned Locust from PyPI before they start, unless that version is already there
(a prebuilt image, or the offline test's virtualenv). A failed install exits before Locust starts.

The master prints its results (Locust's CSV files and the locustfile's overhead JSON, as a tar.gz in
base64) between RESULTS_MARKER lines on stdout, i.e. into CloudWatch Logs, from where `bench aws`
reads them back. Every line carries the marker and its index, so the order in which CloudWatch
returns the events and any other line between them do not matter.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass

from ..names import CONFIG_INVALID_EXIT_CODE
from ..shipped import FAKE_ENDPOINT, HIGH_THROUGHPUT_LOCUSTFILE, LOCUSTFILE
from ..stack.ecs_tasks import master_key_prelude
from ..versions import LOCUST_VERSION

FAKE_CODE_ENV = "FAKE_ENDPOINT_PY_GZ"
LOCUST_CODE_ENV = "LOCUSTFILE_PY_GZ"
FAKE_DELAY_ENV = "FAKE_DELAY_MS"
"""The fake endpoint's answer delay in ms (fake_endpoint.py reads it as the default of --delay-ms)."""
HIGH_THROUGHPUT_CODE_ENV = "HIGH_THROUGHPUT_PY_GZ"
"""Only in a high-throughput harness: loadtest/high_throughput.py (it imports the guide's locustfile)."""
LOCUSTFILE_CHOICE_ENV = "BENCH_LOCUSTFILE"
ROLE_ENV = "BENCH_ROLE"
"""What a Locust task runs as: one task definition for both roles, chosen per run_task by a container override."""
MASTER_ROLE = "master"
WORKER_ROLE = "worker"
RESULTS_MARKER = "LITELLM-BENCH-RESULTS"
RESULTS_CHUNK = 4000
MASTER_PORT = 5557
WEB_UI_PORT = 8089
LOCUST_REQUIREMENT = f"locust=={LOCUST_VERSION}"
LOCUST_INSTALL_FAILED_EXIT_CODE = 69  # EX_UNAVAILABLE from sysexits.h
WORKER_WAIT_S = 300
"""Seconds the master waits for its workers before it gives up (Locust's --expect-workers-max-wait)."""
AUTOQUIT_S = 30
"""With the web UI, seconds the master stays up after the run (Locust's --autoquit)."""

FAKE_ENDPOINT_SOURCE = FAKE_ENDPOINT
LOCUSTFILE_SOURCE = LOCUSTFILE
HIGH_THROUGHPUT_SOURCE = HIGH_THROUGHPUT_LOCUSTFILE


def encode_source(source: bytes) -> str:
    """gzip (no timestamp: byte-stable renders) + base64, ready for an environment variable."""
    return base64.b64encode(gzip.compress(source, compresslevel=9, mtime=0)).decode("ascii")


def decode_source(text: str) -> bytes:
    return gzip.decompress(base64.b64decode(text))


@dataclass(frozen=True)
class HarnessSources:
    """The code the harness ships, read at the edge (render) so the template builder stays pure."""

    fake_endpoint: bytes
    locustfile: bytes
    high_throughput: bytes = b""

    @classmethod
    def from_package(cls) -> HarnessSources:
        sources = (FAKE_ENDPOINT_SOURCE, LOCUSTFILE_SOURCE, HIGH_THROUGHPUT_SOURCE)
        missing = [p for p in sources if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"harness source missing: {', '.join(map(str, missing))} (reinstall: data files missing)"
            )
        return cls(
            fake_endpoint=FAKE_ENDPOINT_SOURCE.read_bytes(),
            locustfile=LOCUSTFILE_SOURCE.read_bytes(),
            high_throughput=HIGH_THROUGHPUT_SOURCE.read_bytes(),
        )


def _decode(env: str, target: str) -> str:
    return f"printf '%s' \"${env}\" | base64 -d | gzip -dc > {target}\n"


def fake_endpoint_script() -> str:
    return (
        "set -eu\n"
        'f="${TMPDIR:-/tmp}/fake_endpoint.py"\n'
        + _decode(FAKE_CODE_ENV, '"$f"')
        + 'exec python3 "$f" --host "$FAKE_HOST" --port "$FAKE_PORT"\n'
    )


def install_locust_script() -> str:
    """sh: pip-install the pinned Locust unless that version is already importable; exit 69 if pip fails."""
    installed = f"import importlib.metadata as m, sys; sys.exit(m.version('locust') != '{LOCUST_VERSION}')"
    return (
        f'if ! python3 -c "{installed}" 2>/dev/null; then\n'
        "  python3 -m pip install --quiet --no-cache-dir --disable-pip-version-check --root-user-action=ignore "
        f'"{LOCUST_REQUIREMENT}" || {{ echo "litellm-bench-cfn: pip could not install {LOCUST_REQUIREMENT} from PyPI'
        f' (the task needs outbound HTTPS through the NAT gateway)" >&2; exit {LOCUST_INSTALL_FAILED_EXIT_CODE}; }}\n'
        "fi\n"
    )


def _locust_prelude() -> str:
    return (
        "set -eu\n" + install_locust_script() + master_key_prelude() + 'd="${TMPDIR:-/tmp}/litellm-bench"\n'
        'mkdir -p "$d/results"\n'
        + _decode(LOCUST_CODE_ENV, '"$d/locustfile.py"')
        + f'if [ -n "${{{HIGH_THROUGHPUT_CODE_ENV}:-}}" ]; then '
        + _decode(HIGH_THROUGHPUT_CODE_ENV, '"$d/high_throughput.py"').rstrip("\n")
        + "; fi\n"
        + f'lf="$d/${{{LOCUSTFILE_CHOICE_ENV}:-locustfile.py}}"\n'
    )


RESULTS_PRINTER = f"""\
import base64, io, os, sys, tarfile
d, rc = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for name in sorted(os.listdir(d)):
        tar.add(os.path.join(d, name), arcname=name)
text = base64.b64encode(buf.getvalue()).decode()
parts = [text[i:i + {RESULTS_CHUNK}] for i in range(0, len(text), {RESULTS_CHUNK})]
print("{RESULTS_MARKER} BEGIN exit=%s parts=%d" % (rc, len(parts)))
for i, part in enumerate(parts):
    print("{RESULTS_MARKER} %d %s" % (i, part))
print("{RESULTS_MARKER} END", flush=True)
"""


def _master() -> str:
    """Headless (or web UI with --autostart) Locust master; prints the results, exits with Locust's code."""
    return (
        'export LITELLM_OVERHEAD_JSON="$d/results/overhead.json" LOCUST_ERROR_FILE="$d/results/errors.txt"\n'
        'export LITELLM_TTFT_JSON="$d/results/ttft.json"\n'
        'mode="--headless"\n'
        f'if [ "${{BENCH_WEB_UI:-false}}" = true ]; then mode="--autostart --autoquit {AUTOQUIT_S}"; fi\n'
        "rc=0\n"
        'locust -f "$lf" --master --master-bind-host "$BENCH_MASTER_BIND" '
        '--master-bind-port "$BENCH_MASTER_PORT" --expect-workers "$BENCH_WORKERS" '
        f"--expect-workers-max-wait {WORKER_WAIT_S} $mode "
        '-u "$BENCH_USERS" -r "$BENCH_SPAWN_RATE" -t "${BENCH_RUN_TIME_S}s" -H "$BENCH_TARGET" '
        '--csv "$d/results/run" --csv-full-history --json-file "$d/results/run_stats" --only-summary '
        '--html "$d/results/run_report.html" '
        "--stop-timeout 30 --loglevel WARNING || rc=$?\n"
        f'python3 -c \'{RESULTS_PRINTER}\' "$d/results" "$rc"\n'
        'exit "$rc"\n'
    )


def _worker() -> str:
    return (
        'if [ -z "${BENCH_MASTER_HOST:-}" ]; then echo "litellm-bench-cfn: BENCH_MASTER_HOST is empty:'
        f" bench aws passes the master's private IP\" >&2; exit {CONFIG_INVALID_EXIT_CODE}; fi\n"
        'exec locust -f "$lf" --worker --master-host "$BENCH_MASTER_HOST" '
        '--master-port "$BENCH_MASTER_PORT" --loglevel WARNING\n'
    )


def locust_script() -> str:
    """The Locust task's one start script: the shared prelude, then the master or a worker by `BENCH_ROLE`.

    One script (and one task definition) for both roles, so the locustfile travels once; any other
    role is one line and exit 78."""
    role = f"${{{ROLE_ENV}:-}}"
    return (
        _locust_prelude()
        + f'case "{role}" in\n'
        + f"{MASTER_ROLE})\n"
        + _master()
        + ";;\n"
        + f"{WORKER_ROLE})\n"
        + _worker()
        + ";;\n"
        + f"*) echo \"litellm-bench-cfn: {ROLE_ENV} is '{role}': bench aws runs this task as {MASTER_ROLE} or"
        f' {WORKER_ROLE}" >&2; exit {CONFIG_INVALID_EXIT_CODE} ;;\n' + "esac\n"
    )
