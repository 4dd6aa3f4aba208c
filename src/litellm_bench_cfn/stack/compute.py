"""ECS cluster, the LiteLLM Fargate task definition and the service behind the load balancer.

Migrations (issue 13): every task's init container runs LiteLLM's migration job and reruns it while it
exits 1, because LiteLLM builds the request-log indexes under a lock that does not wait and designs the
step for a job that is rerun; the decision and why not a one-off task or our own lock: `migrations_container`.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Join, Ref, Template, ecs, logs

from .. import names, proxy_config
from ..names import (
    DATABASE_PASSWORD_ENV,
    DATABASE_TLS_CONTAINER,
    MIGRATIONS_CONTAINER,
    PROXY_CONTAINER,
    PROXY_SERVICE,
    PROXY_TASK_DEFINITION,
)
from ..spec import BenchmarkSpec
from . import database_tls
from .database import Database
from .ecs_tasks import (
    environment,
    fargate_task_definition,
    http_health_check,
    log_configuration,
    master_key_secret,
    nofile_ulimits,
    rolling_deployment,
    script_container,
)
from .iam import Roles
from .load_balancer import LoadBalancer
from .network import Network
from .parameters import Parameters
from .redis import Redis
from .secrets import Secrets
from .security_groups import SecurityGroups
from .service_discovery import ServiceDiscovery


@dataclass(frozen=True)
class Compute:
    cluster: ecs.Cluster
    task_definition: ecs.TaskDefinition
    service: ecs.Service


def database_host(database: Database) -> Join:
    """host:port: LiteLLM reads no DATABASE_PORT; the port belongs in DATABASE_HOST."""
    return Join(":", [GetAtt(database.instance, "Endpoint.Address"), GetAtt(database.instance, "Endpoint.Port")])


MIGRATIONS_RERUN_EXIT_CODE = 1
"""`litellm --skip_server_startup` exits 1 ("Database setup failed") when the schema or the request-log
indexes are not in place yet, the result LiteLLM's migration job is rerun on; it exits 2 when a
migration "cannot proceed" and a rerun cannot fix it (litellm/proxy/proxy_cli.py)."""


def migrations_script(spec: BenchmarkSpec) -> str:
    """POSIX sh run as `sh -c SCRIPT`: LiteLLM's own migration step, rerun the way LiteLLM intends.

    Runs the image's `docker/prod_entrypoint.sh --skip_server_startup` up to `migrations.attempts`
    times while it exits 1, waiting `retry_delay_s` doubled per rerun (capped at `retry_delay_max_s`)
    and jittered to 50-100 % from /dev/urandom, so copies that failed together do not rerun together.
    Each failed run is one line on stderr. Any other exit code ends the container with that code.
    """
    m = spec.migrations
    log = "litellm-bench-cfn: migrations:"
    return (
        "set -u\n"
        f"attempts={m.attempts}\n"
        f"delay={m.retry_delay_s}\n"
        "run=1\n"
        "while :; do\n"
        "  docker/prod_entrypoint.sh --skip_server_startup && exit 0\n"
        "  code=$?\n"
        f'  if [ "$code" -ne {MIGRATIONS_RERUN_EXIT_CODE} ]; then\n'
        f'    echo "{log} run $run of $attempts exited $code, which a rerun does not fix; giving up" >&2\n'
        '    exit "$code"\n'
        "  fi\n"
        '  if [ "$run" -ge "$attempts" ]; then\n'
        f'    echo "{log} run $run of $attempts exited $code; giving up, the proxy will not start" >&2\n'
        '    exit "$code"\n'
        "  fi\n"
        "  r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' ')\n"
        "  case \"$r\" in ''|*[!0-9]*) r=0 ;; esac\n"
        "  low=$(( (delay + 1) / 2 ))\n"
        "  wait_s=$(( low + r % (delay - low + 1) ))\n"
        f'  echo "{log} run $run of $attempts exited $code (LiteLLM: Database setup failed; usually another'
        ' task holds its migration lock); rerunning in ${wait_s}s" >&2\n'
        '  sleep "$wait_s"\n'
        "  run=$((run + 1))\n"
        "  delay=$((delay * 2))\n"
        f'  if [ "$delay" -gt {m.retry_delay_max_s} ]; then delay={m.retry_delay_max_s}; fi\n'
        "done\n"
    )


def migrations_container(
    spec: BenchmarkSpec, secrets: Secrets, database: Database, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    """LiteLLM's migration job (`litellm --skip_server_startup`) as an init container, rerun until it exits 0.

    Design (issue #8): an init container in the proxy's own task, not a one-off task run by a custom
    resource. It needs no Lambda, no extra IAM and no second task definition, and it runs on every
    deploy because every new task revision starts with it. What the design buys is that a proxy never
    migrates while it serves: the proxy starts only after its migrations container exited 0
    (DependsOn SUCCESS) and itself runs with DISABLE_SCHEMA_UPDATE=true. No StartTimeout: a first
    migration of an empty database may take minutes, and a timeout would turn a slow migration into
    a rollback.

    It runs once per TASK, not once per deploy (issue #13): when 4 tasks start together, 4 copies
    start together. `prisma migrate deploy` is safe concurrently (Prisma's advisory lock queues the
    copies). The step after it is not: `--skip_server_startup` then builds the request-log indexes
    (litellm_proxy_extras/request_log_indexes.py) under LiteLLM's migration coordinator lock taken
    with `pg_try_advisory_lock`, which never waits. A copy that finds another copy building an index
    gives up and exits 1 ("Database setup failed"); LiteLLM means that result for a migration job
    that is rerun (`build_request_log_indexes` in litellm/proxy/db/prisma_client.py: "False ... so
    the job exits non-zero and is rerun"; `run_migration_job` in litellm_proxy_extras/utils.py).
    So the container's command is `migrations_script`: it reruns the image's own entrypoint with
    `--skip_server_startup` while it exits 1, with bounded, jittered backoff. A rerun is cheap
    (no pending migration, an index another copy built is found valid and left alone) and ends when
    the slow copy released the lock. Exit 2 ("cannot proceed": permissions, a migration whose
    completion cannot be verified) is passed on at once: LiteLLM says a restart does not fix it.
    A database that stays broken still fails the task after `migrations.attempts` runs, and the
    deployment circuit breaker rolls back. Rejected: serialising the copies with a blocking advisory
    lock of our own around the step needs a database client in the wrapper, a second lock protocol
    next to LiteLLM's, and makes the 4th task wait for 3 whole runs; a one-off task per deploy needs
    a custom resource (Lambda) that cannot be tested offline.
    """
    plain = {
        names.DATABASE_HOST_ENV: database_host(database),
        names.DATABASE_NAME_ENV: spec.database.database_name,
        names.DATABASE_USERNAME_ENV: spec.database.master_username,
        "LITELLM_LOG": spec.litellm.log_level,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    return script_container(
        MIGRATIONS_CONTAINER,
        spec.litellm.image,
        migrations_script(spec),
        essential=False,
        Environment=environment(plain),
        Secrets=[ecs.Secret(Name=DATABASE_PASSWORD_ENV, ValueFrom=Ref(secrets.db_password))],
        LogConfiguration=log_configuration(log_group, MIGRATIONS_CONTAINER),
    )


def proxy_container(
    spec: BenchmarkSpec,
    params: Parameters,
    secrets: Secrets,
    database: Database,
    log_group: logs.LogGroup,
    redis: Redis | None = None,
    discovery: ServiceDiscovery | None = None,
) -> ecs.ContainerDefinition:
    plain = proxy_config.container_environment(spec)
    if spec.migrations.mode == "init_container":
        plain["DISABLE_SCHEMA_UPDATE"] = "true"
    variables = environment(plain)
    variables += [
        ecs.Environment(Name="NUM_WORKERS", Value=Ref(params.workers)),
        ecs.Environment(Name=names.DATABASE_HOST_ENV, Value=database_host(database)),
        ecs.Environment(
            Name=proxy_config.API_BASE_ENV,
            Value=discovery.api_base(Ref(params.benchmark_api_base)) if discovery else Ref(params.benchmark_api_base),
        ),
    ]
    injected = [
        ecs.Secret(Name=DATABASE_PASSWORD_ENV, ValueFrom=Ref(secrets.db_password)),
        ecs.Secret(Name="LITELLM_SALT_KEY", ValueFrom=Ref(secrets.salt_key)),
        master_key_secret(Ref(secrets.master_key)),
    ]
    injected += [ecs.Secret(Name=key.env, ValueFrom=key.value_from) for key in secrets.provider_keys]
    if redis is not None:
        variables += redis.environment()
        injected += redis.secrets()
    depends = []
    if spec.migrations.mode == "init_container":
        depends = [ecs.ContainerDependency(ContainerName=MIGRATIONS_CONTAINER, Condition="SUCCESS")]
    chc = spec.container_health_check
    return script_container(
        PROXY_CONTAINER,
        spec.litellm.image,
        proxy_config.start_script(spec),
        essential=True,
        PortMappings=[ecs.PortMapping(ContainerPort=spec.litellm.port, Protocol="tcp")],
        Environment=sorted(variables, key=lambda e: e.Name),
        Secrets=injected,
        **({"DependsOn": depends} if depends else {}),
        HealthCheck=http_health_check(
            spec.litellm.port,
            chc.path,
            interval_s=chc.interval_s,
            timeout_s=chc.timeout_s,
            retries=chc.retries,
            start_period_s=chc.start_period_s,
        ),
        Ulimits=nofile_ulimits(),
        StopTimeout=spec.high_throughput.stop_timeout_s or 30,
        LogConfiguration=log_configuration(log_group, PROXY_CONTAINER),
    )


COLLECTOR_CONTAINER = "collector"


def collector_container(
    proxy: ecs.ContainerDefinition, spec: BenchmarkSpec, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    """LiteLLM's spend-collector sidecar: the proxy's image, environment and secrets, its own process.

    It shares the task's network namespace (awsvpc), so the workers reach it, and it reaches the
    proxy container's PgBouncer, on 127.0.0.1 as in a Kubernetes pod. Essential: a dead collector
    would make every worker fall back to in-process spend tracking unnoticed."""
    variables = [e for e in proxy.Environment if e.Name != "LITELLM_COLLECTOR_ENABLED"]
    variables.append(ecs.Environment(Name="LITELLM_JOB_ROLE", Value="collector"))
    return script_container(
        COLLECTOR_CONTAINER,
        spec.litellm.image,
        proxy_config.collector_start_script(spec),
        essential=True,
        Environment=sorted(variables, key=lambda e: e.Name),
        Secrets=proxy.Secrets,
        DependsOn=[ecs.ContainerDependency(ContainerName=PROXY_CONTAINER, Condition="START")],
        StopTimeout=spec.high_throughput.stop_timeout_s or 30,
        LogConfiguration=log_configuration(log_group, COLLECTOR_CONTAINER),
    )


def add_compute(
    template: Template,
    spec: BenchmarkSpec,
    params: Parameters,
    network: Network,
    groups: SecurityGroups,
    balancer: LoadBalancer,
    database: Database,
    secrets: Secrets,
    roles: Roles,
    log_group: logs.LogGroup,
    redis: Redis | None = None,
    discovery: ServiceDiscovery | None = None,
) -> Compute:
    containers = [proxy_container(spec, params, secrets, database, log_group, redis, discovery)]
    if spec.high_throughput.spend_collector:
        containers.append(collector_container(containers[0], spec, log_group))
    if spec.migrations.mode == "init_container":
        containers.insert(0, migrations_container(spec, secrets, database, log_group))
    # Every container that opens a DB connection verifies the RDS certificate (stack/database_tls.py).
    containers = [
        database_tls.fetch_container(spec.litellm.image, log_configuration(log_group, DATABASE_TLS_CONTAINER)),
        *(database_tls.verified_client(c) for c in containers),
    ]
    cluster = template.add_resource(
        ecs.Cluster("Cluster", ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")])
    )
    task_definition = template.add_resource(
        fargate_task_definition(
            PROXY_TASK_DEFINITION,
            cpu=Ref(params.task_cpu),
            memory=Ref(params.task_memory),
            execution_role=roles.execution,
            task_role=roles.task,
            containers=containers,
            volumes=[database_tls.volume()],
        )
    )
    service = template.add_resource(
        ecs.Service(
            PROXY_SERVICE,
            DependsOn=balancer.listener,
            Cluster=Ref(cluster),
            TaskDefinition=Ref(task_definition),
            DesiredCount=Ref(params.desired_count),
            LaunchType="FARGATE",
            PlatformVersion="LATEST",
            PropagateTags="SERVICE",
            # A real start: migrations (init container or in the proxy), then workers booting.
            HealthCheckGracePeriodSeconds=spec.container_health_check.start_period_s
            + spec.migrations.expected_duration_s,
            DeploymentConfiguration=rolling_deployment(spec.rolling_maximum_percent),
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    Subnets=[Ref(s) for s in network.private_subnets],
                    SecurityGroups=[Ref(groups.tasks)],
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName=PROXY_CONTAINER,
                    ContainerPort=spec.litellm.port,
                    TargetGroupArn=Ref(balancer.target_group),
                )
            ],
        )
    )
    return Compute(cluster=cluster, task_definition=task_definition, service=service)
