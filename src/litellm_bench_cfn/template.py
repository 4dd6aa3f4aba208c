"""build_template(spec): the only orchestrator. Pure: reads no environment, clock or file."""

from __future__ import annotations

from troposphere import Ref, Template

from .names import LOAD_TEST_METADATA, TOOL_METADATA
from .spec import BenchmarkSpec
from .stack.compute import add_compute
from .stack.database import DELETION_POLICY, add_database, keeps_data
from .stack.exports import add_exports
from .stack.iam import add_roles
from .stack.load_balancer import add_load_balancer
from .stack.monitoring import add_monitoring
from .stack.network import add_network
from .stack.observability import add_log_group
from .stack.options import add_options
from .stack.outputs import add_outputs
from .stack.parameters import add_parameters
from .stack.redis import add_redis
from .stack.rules import add_rules
from .stack.scaling import add_autoscaling, add_request_count_scaling
from .stack.secrets import add_secrets
from .stack.security_groups import add_security_groups
from .stack.service_discovery import add_service_discovery

GUIDE_FAKE_ENDPOINT = "https://exampleopenaiendpoint-production.up.railway.app/"


def _record_load_test(template: Template, spec: BenchmarkSpec) -> None:
    """The load shape the stack was built for, read back by compliance. (The console's parameter groups and
    labels are set where each parameter is added, so the console names only parameters the template has.)"""
    lt = spec.load_test
    load_test = {"users": lt.users, "spawn_rate": float(lt.spawn_rate), "duration_s": lt.duration_s}
    template.metadata[TOOL_METADATA] = {LOAD_TEST_METADATA: load_test}


def build_template(spec: BenchmarkSpec) -> Template:
    template = Template(Description=spec.template_description)
    template.set_version("2010-09-09")
    params = add_parameters(template, spec, benchmark_api_base_default=GUIDE_FAKE_ENDPOINT)
    options = add_options(template, spec)
    add_rules(template, params, spec.most_tasks)
    network = add_network(template, spec.network)
    groups = add_security_groups(template, network, params, spec.litellm.port, admit_nat=spec.harness.enabled)
    discovery = add_service_discovery(template, spec, network)
    secrets = add_secrets(template, spec, keep_salt_key=keeps_data(DELETION_POLICY))
    log_group = add_log_group(template, spec.observability)
    redis = add_redis(template, spec, network, groups)
    roles = add_roles(template, secrets, log_group, extra_secrets=[redis.auth_token] if redis else [])
    database = add_database(template, spec.database, network, groups, secrets, params)
    balancer = add_load_balancer(template, spec.load_balancer, network, groups, spec.litellm.port, spec.https, options)
    compute = add_compute(
        template, spec, params, network, groups, balancer, database, secrets, roles, log_group, redis, discovery
    )
    add_autoscaling(template, spec.scaling, compute, params)
    add_request_count_scaling(template, spec, balancer)
    add_monitoring(template, spec, options, balancer, database, compute)
    add_outputs(template, spec, balancer, compute, secrets, Ref(log_group))
    add_exports(template, network, groups, compute, balancer, secrets, discovery)
    _record_load_test(template, spec)
    return template
