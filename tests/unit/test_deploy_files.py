"""Deployment files: generated from the one service list (no drift), valid for their tools,
and holding what operators rely on (healthchecks, limits, non-root, no secrets)."""

import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from ops import runner
from onestop.common import broker_users, config
from onestop.contracts import topology
from ops.deploy import __main__ as deploy, compose, prometheus, rabbitmq
from onestop.contracts.events import APPLICATION_SUBMITTED

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.30.0"
OVERLAYS = ("local", "production", "demo")


def tool(name):
    found = shutil.which(name) or (
        str(ROOT / ".venv" / "bin" / name) if (ROOT / ".venv" / "bin" / name).exists() else None
    )
    assert found, f"{name} is missing: scripts/setup.sh installs it"
    return found


def compose_file():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


# -- no drift --------------------------------------------------------------------------


def test_every_generated_file_is_up_to_date():
    assert deploy.stale_files() == [], "run `make deploy-files` and commit the result"


def test_compose_runs_every_process_of_the_local_runner_with_its_command_and_environment():
    services = compose_file()["services"]
    with deploy.default_environment():
        processes = runner.processes(rabbitmq.departments())
    for name, (command, extra) in processes.items():
        if name in compose.LOCAL_ONLY:
            continue
        assert name in services, f"{name} runs locally but not in compose"
        assert services[name]["command"][1:] == command[1:]
        kept, _ = compose.without_credentials(extra)
        for key, value in kept.items():
            if key in compose.DEV_ONLY:  # `make run`'s convenience, off unless .env says so
                value = f"${{{key}:-{compose.DEV_ONLY[key]}}}"
            assert services[name]["environment"][key] == value, (name, key)
    mesh = {n for n, s in services.items() if s.get("image", "").startswith("${ONESTOP_IMAGE")}
    assert mesh - {"broker-setup"} == set(processes) - set(compose.LOCAL_ONLY)
    assert set(config.SERVICES) | set(config.FRONTENDS) <= mesh


def test_make_run_and_the_process_mesh_wait_for_every_process_with_a_health_check(monkeypatch):
    """`make run` announces the mesh once each process answers /health (ops.runner), and the
    fault tests' ProcessMesh waits for the same ones: the screens (web) among them."""
    from tests.support.processes import ProcessMesh

    with deploy.default_environment():
        names = set(runner.processes(rabbitmq.departments()))
        urls = runner.health_urls()
    # the pika consumer serves /metrics only; the broker exporter is a local helper
    assert set(urls) == names - {"departments-pika", "broker-exporter"}
    assert urls["web"] == f"http://127.0.0.1:{config.FRONTENDS['web']}/health"
    waited = {}
    monkeypatch.setattr(
        "tests.support.processes.wait_until_healthy",
        lambda urls, timeout, interval: waited.update(urls) or [],
    )
    ProcessMesh("/nonexistent", "amqp://", 41000).wait_healthy()
    assert set(waited) == set(urls) - {"departments-nameko"}
    assert waited["web"] == "http://127.0.0.1:41007/health"


def test_a_changed_process_in_the_runner_shows_up_as_drift(monkeypatch):
    original = runner.processes

    def changed(departments):
        table = original(departments)
        table.pop("departments-pika")
        command, extra = table["gateway"]
        table["gateway"] = (command, dict(extra, GATEWAY_THREADS="32"))
        return table

    monkeypatch.setattr(runner, "processes", changed)
    stale = deploy.stale_files()
    assert str(ROOT / "docker-compose.yml") in stale
    assert str(ROOT / "deploy/kubernetes/base/mesh.yaml") in stale


# -- docker compose ----------------------------------------------------------------------


def test_compose_is_valid_for_docker_compose(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    checked = subprocess.run(
        [
            tool("docker-compose"),
            "--env-file",
            str(env_file),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# nothing set\n")
    checked = subprocess.run(
        [
            tool("docker-compose"),
            "--env-file",
            str(env_file),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert checked.returncode != 0 and "set in .env" in checked.stderr


def test_every_long_running_container_has_a_healthcheck_limits_and_ordered_start():
    services = compose_file()["services"]
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
        if name == "broker-setup":
            continue
        assert service["healthcheck"]["test"], name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services
            assert condition["condition"] in ("service_healthy", "service_completed_successfully")
    for name in config.SERVICES:
        assert services[name]["depends_on"]["mongodb"] == {"condition": "service_healthy"}
    assert set(services["gateway"]["depends_on"]) >= set(config.SERVICES)


def test_compose_has_one_public_entry_point_and_named_volumes():
    document = compose_file()
    public = [
        (name, str(port).rsplit(":", 1)[-1])
        for name, service in document["services"].items()
        for port in service.get("ports", [])
        if not str(port).startswith("127.0.0.1:")
    ]
    # the API, and AMQPS (TLS only) for external departments; plain AMQP stays inside
    assert sorted(public) == [("gateway", "8000"), ("rabbitmq", "5671")]
    for service in document["services"].values():
        for volume in service.get("volumes", []):
            source = volume.replace("${RABBITMQ_TLS_DIR:-./deploy/tls}", "./deploy/tls")
            source = source.split(":")[0]
            assert source.startswith("./deploy/") or source in document["volumes"], volume


def test_no_secret_is_committed_and_every_variable_is_in_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    example = (ROOT / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert used <= defined, used - defined
    for secret in (
        "RABBITMQ_PASSWORD",
        "MONGO_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
        "BROKER_USERS_SECRET",
        "AUTH_PUBLIC_KEYS",
        "AUTH_SIGNING_KEY",
    ):
        assert f"${{{secret}:?" in text  # required, never defaulted
        assert re.search(rf"^{secret}=CHANGE-ME", example, re.MULTILINE)
    for name, service in compose_file()["services"].items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"PASS|SECRET|TOKEN|_KEY$", key):
                assert str(value).startswith("${"), (name, key)
            if "://" in str(value) and "@" in str(value):  # credentials inside a URI
                user = r"(?:\$\{\w+:\?[^}]*\}|[\w.-]+)"  # a variable, or a user name
                assert re.search(rf"://{user}:\$\{{\w+:\?[^}}]*\}}@", value), (name, key)


def test_each_service_connects_as_its_own_broker_user_and_the_gateway_as_none():
    """Least privilege (issue 13): a service's AMQP_URI names its own user and only its own
    password variable; broker-setup gets them all to create the users; the gateway talks
    to no broker."""
    services = compose_file()["services"]
    example = (ROOT / ".env.example").read_text()
    for name in config.SERVICES:
        variable = broker_users.service_password_variable(name)
        uri = services[name]["environment"]["AMQP_URI"]
        assert uri.startswith(f"amqp://service.{name}:${{{variable}:?"), uri
        assert "RABBITMQ_PASSWORD" not in str(services[name]["environment"])
        assert variable in services["broker-setup"]["environment"]
        assert re.search(rf"^{variable}=CHANGE-ME", example, re.MULTILINE)
    for http_only in ("gateway", *config.FRONTENDS):
        assert "AMQP_URI" not in services[http_only]["environment"], http_only
        assert "MONGO_URI" not in services[http_only]["environment"], http_only


def test_each_service_reads_the_store_as_its_own_user_and_root_is_for_the_init_only():
    services = compose_file()["services"]
    example = (ROOT / ".env.example").read_text()
    store = services["mongodb"]
    assert store["environment"]["ONESTOP_SERVICES"].split() == list(config.SERVICES)
    assert any("docker-entrypoint-initdb.d" in volume for volume in store["volumes"])
    for name in config.SERVICES:
        variable = compose.store_password_variable(name)
        uri = services[name]["environment"]["MONGO_URI"]
        assert uri.startswith(f"mongodb://{name}:${{{variable}:?"), uri
        assert variable in store["environment"]
        assert re.search(rf"^{variable}=CHANGE-ME", example, re.MULTILINE)
    for name, service in services.items():  # the root password: the store and nobody else
        if name != "mongodb":
            assert "MONGO_PASSWORD}" not in str(service.get("environment", {})), name
    script = (ROOT / "deploy/mongodb/onestop-users.sh").read_text()
    assert '"readWrite"' in script and "AnyDatabase" not in script


def test_rabbitmq_has_its_plugins_and_the_definitions_hold_quorum_queues():
    plugins = (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins
    definitions = rabbitmq.definitions()
    names = {queue["name"] for queue in definitions["queues"]}
    assert {f"approval.tasks.{d}" for d in rabbitmq.departments()} <= names
    assert all(q["arguments"]["x-queue-type"] == "quorum" for q in definitions["queues"])
    assert "users" not in definitions
    conf = (ROOT / "deploy/rabbitmq/rabbitmq.conf").read_text()
    assert "prometheus.return_per_object_metrics = true" in conf


# -- Dockerfile ----------------------------------------------------------------------------


def test_the_dockerfile_is_lint_clean():
    linted = subprocess.run(
        [tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_image_is_multi_stage_pinned_non_root_and_healthchecked():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(stages) >= 2
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", text, re.MULTILINE).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base)
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert "HEALTHCHECK" in text
    ignored = (ROOT / ".dockerignore").read_text()
    assert ignored.startswith("#") and "\n**\n" in ignored  # allow-list: nothing by accident


def test_the_image_carries_the_built_screens_and_not_their_sources():
    """services/web/dist (built by the setup, not committed) goes in with services/; the
    front end's sources and node_modules stay out; a build without dist stops, saying why."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path):  # Docker's rule: the last pattern that matches decides
        verdict = True
        for line in lines:
            pattern = line.lstrip("!").rstrip("/")
            if pattern == "**" or path == pattern or path.startswith(pattern + "/"):
                verdict = line.startswith("!")
            elif pattern.startswith("**/") and f"/{pattern[3:]}/" in f"/{path}/":
                verdict = line.startswith("!")
        return verdict

    assert sent("services/web/dist/index.html") and sent("services/web/dist/assets/index.js")
    assert sent("services/web/app.py")
    assert not sent("services/web/frontend/src/App.jsx")
    assert not sent("services/web/frontend/node_modules/vite/package.json")
    assert not sent("departments/examples/node-department/node_modules/amqplib/index.js")
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY services \./services$", text, re.MULTILINE)
    assert "test -f services/web/dist/index.html" in text
    assert str(config.FRONTENDS["web"]) in re.search(r"^EXPOSE (.*)$", text, re.MULTILINE)[1]


# -- Kubernetes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered():
    documents = {}
    for overlay in OVERLAYS:
        built = subprocess.run(
            [tool("kubectl"), "kustomize", str(ROOT / "deploy/kubernetes/overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert built.returncode == 0, built.stderr
        documents[overlay] = [d for d in yaml.safe_load_all(built.stdout) if d]
    return documents


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_built_in_resources_validate_against_the_kubernetes_schemas(rendered, overlay):
    custom = {
        "RabbitmqCluster",
        "MongoDBCommunity",
        "ScaledObject",
        "TriggerAuthentication",
        "PodMonitor",
        "PrometheusRule",
    }
    for document in rendered[overlay]:
        if document["kind"] in custom:
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def by_kind(documents, kind):
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_a_safe_deployment_a_service_and_a_disruption_budget(rendered, overlay):
    documents = rendered[overlay]
    deployments = by_kind(documents, "Deployment")
    with deploy.default_environment():
        expected = set(runner.processes(rabbitmq.departments())) - set(compose.LOCAL_ONLY)
    if overlay != "demo":  # the reference departments approve by rule: demo only
        expected -= set(config.DEPARTMENT_CONSUMERS)
    assert set(deployments) == expected
    amqps = {"rabbitmq-amqps"} if overlay == "production" else set()  # departments' TLS door
    assert set(by_kind(documents, "Service")) == expected | amqps
    assert set(by_kind(documents, "PodDisruptionBudget")) == expected
    assert not by_kind(documents, "Secret"), "secrets are referenced, never committed"
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert container[probe]["httpGet"]["port"] == "http", (name, probe)
            assert container["resources"]["limits"] and container["resources"]["requests"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
    for name in config.SERVICES:  # they wait for the topology job, with their own user
        [wait] = deployments[name]["spec"]["template"]["spec"]["initContainers"]
        assert wait["command"][-1] == "ops.deploy.wait_for_broker", name
        assert wait["securityContext"]["readOnlyRootFilesystem"] is True


def pod_env(pod):
    """Every environment variable a pod's containers (init containers too) are given, with
    where its value comes from."""
    return [
        (container["name"], env)
        for container in pod.get("initContainers", []) + pod["containers"]
        for env in container.get("env", [])
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_broker_topology_is_a_job_of_its_own_and_only_it_holds_the_broker_secrets(
    rendered, overlay
):
    """docs/adr/0031: the administrator's URI (onestop-amqp), the departments' secret
    (onestop-broker-users) and every service's password are in the broker-setup Job, which
    runs to its end, no service account token, talking to RabbitMQ only; no Deployment's pod
    carries them, and a service's pod carries its own password only (its init container
    included)."""
    documents = rendered[overlay]
    [job] = by_kind(documents, "Job").values()
    assert job["metadata"]["name"] == "broker-setup"
    spec = job["spec"]
    assert spec["backoffLimit"] > 0 and spec["ttlSecondsAfterFinished"] > 0
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and "serviceAccountName" not in pod
    assert pod["restartPolicy"] == "OnFailure"
    [setup] = pod["containers"]
    assert setup["command"][-1] == "ops.deploy.broker_setup"
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for _, e in pod_env(pod)}
    assert env["AMQP_URI"]["name"] == "onestop-amqp"
    assert env["BROKER_USERS_SECRET"]["name"] == "onestop-broker-users"
    for name in config.SERVICES:
        variable = broker_users.service_password_variable(name)
        assert env[variable] == {"name": "onestop-broker-service-users", "key": name}
    held = {}
    for name, deployment in by_kind(documents, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, name
        for container, e in pod_env(pod):
            where = e.get("valueFrom", {}).get("secretKeyRef", {})
            assert where.get("name") != "onestop-amqp", (name, container, e["name"])
            # the reference departments (demo only) derive their departments' users from it
            department_secret = where.get("name") == "onestop-broker-users" or e["name"] in (
                "BROKER_USERS_SECRET",
                "DEPARTMENT_AMQP_URIS",
            )
            assert not department_secret or name in config.DEPARTMENT_CONSUMERS, (name, container)
            assert not e["name"].startswith("BROKER_PASSWORD_"), (name, container)
            assert "RABBITMQ_" not in e["name"] or "URL" in e["name"], (name, container)
            if where.get("name") == "onestop-broker-service-users":
                held.setdefault(name, set()).add(where["key"])
    # a service's pod: its own password only; nobody else's pod holds any
    assert held == {name: {name} for name in config.SERVICES}
    policies = by_kind(documents, "NetworkPolicy")
    setup_policy = policies["broker-setup"]["spec"]
    assert setup_policy["policyTypes"] == ["Egress"]
    assert setup_policy["egress"] == [
        {
            "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/component": "rabbitmq"}}}],
            "ports": [{"protocol": "TCP", "port": 5672}, {"protocol": "TCP", "port": 15672}],
        }
    ]
    management = [rule for rule in policies["rabbitmq"]["spec"]["ingress"] if "15672" in str(rule)]
    for rule in management:  # the management API: the job and the operators' namespaces
        assert "broker-setup" in str(rule) or "namespaceSelector" in str(rule), rule


def test_the_broker_is_a_quorum_cluster_and_the_store_a_replica_set(rendered):
    production = rendered["production"]
    cluster = by_kind(production, "RabbitmqCluster")["rabbitmq"]["spec"]
    assert cluster["replicas"] == 3
    assert "default_queue_type = quorum" in cluster["rabbitmq"]["additionalConfig"]
    assert "rabbitmq_prometheus" in cluster["rabbitmq"]["additionalPlugins"]
    mongo = by_kind(production, "MongoDBCommunity")["onestop-mongodb"]["spec"]
    assert mongo["type"] == "ReplicaSet" and mongo["members"] == 3
    assert by_kind(rendered["local"], "RabbitmqCluster")["rabbitmq"]["spec"]["replicas"] == 1


def test_autoscaling_watches_queues_that_exist_and_targets_that_exist(rendered):
    """Each scaled service watches the queues it takes work from: queues of the broker's
    definitions, or the durable queues of its own event handlers (named by nameko
    `evt-<source>-<event>--<service>.<handler>`, the handler a method of its class)."""
    from onestop.service_classes import service_class

    demo = rendered["demo"]
    defined = {q["name"] for q in rabbitmq.definitions()["queues"]}
    deployments = by_kind(demo, "Deployment")
    scaled = by_kind(demo, "ScaledObject")
    assert set(scaled) == {
        "routing",
        "intake",
        "license",
        "feedback",
        "notify",
        "departments-nameko",
        "departments-pika",
    }
    watched = set()
    for name, scaled_object in scaled.items():
        assert scaled_object["spec"]["scaleTargetRef"]["name"] in deployments
        assert "replicas" not in deployments[name]["spec"]  # KEDA owns the count
        for trigger in scaled_object["spec"]["triggers"]:
            queue = trigger["metadata"]["queueName"]
            watched.add(queue)
            if queue in defined:
                continue
            assert queue.startswith("evt-") and f"--{name}." in queue, (name, queue)
            assert callable(getattr(service_class(name), queue.split(f"--{name}.")[1]))
    assert {f"approval.tasks.{d}" for d in rabbitmq.departments()} <= watched
    assert {
        topology.RESULTS_QUEUE,
        f"evt-intake-{APPLICATION_SUBMITTED}--routing.handle_application_submitted",
        "evt-routing-application_updated--intake.handle_application_updated",
        "evt-notify-notification_queued--notify.handle_notification_queued",
    } <= watched
    assert not [q for q in watched if "token_revoked" in q]  # every service keeps those


def test_monitoring_on_kubernetes_uses_the_same_rules(rendered):
    production = rendered["production"]
    rules = by_kind(production, "PrometheusRule")["onestop"]["spec"]["groups"]
    on_disk = []
    for name in ("recording.yml", "alerts.yml"):
        on_disk += yaml.safe_load((ROOT / "deploy/prometheus/rules" / name).read_text())["groups"]
    assert rules == on_disk
    monitors = by_kind(production, "PodMonitor")
    assert monitors["onestop"]["spec"]["jobLabel"] == "app.kubernetes.io/name"


def test_every_pod_is_scraped_on_a_port_it_serves_metrics_on(rendered):
    """The gateway's metrics are on their own port (its http port is public): each pod is
    picked by exactly one PodMonitor, on a container port it has."""
    production = rendered["production"]
    monitors = [m for name, m in by_kind(production, "PodMonitor").items() if name != "rabbitmq"]

    def picks(monitor, labels):
        selector = monitor["spec"]["selector"]
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            return False
        return all(
            labels.get(e["key"]) not in e["values"]
            for e in selector.get("matchExpressions", [])
            if e["operator"] == "NotIn"
        )

    for name, deployment in by_kind(production, "Deployment").items():
        template = deployment["spec"]["template"]
        if template["metadata"]["labels"].get("app.kubernetes.io/part-of") != "onestop":
            continue
        chosen = [m for m in monitors if picks(m, template["metadata"]["labels"])]
        assert len(chosen) == 1, (name, [m["metadata"]["name"] for m in chosen])
        ports = {p["name"]: p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
        port_name = chosen[0]["spec"]["podMetricsEndpoints"][0]["port"]
        assert port_name in ports, (name, port_name)
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(ports[port_name])
    gateway = by_kind(production, "Deployment")["gateway"]["spec"]["template"]
    assert {p["name"] for p in gateway["spec"]["containers"][0]["ports"]} == {"http", "metrics"}


def test_only_the_department_consumers_get_the_broker_users_secret(rendered):
    """The reference department consumers connect as their departments' broker users: in
    containers they derive the passwords from the secret. No service does: routing's
    officer API applies an officer's decision itself (ADR 0029), so a compromised routing
    cannot pose as a department. (In Kubernetes the broker-setup Job, which creates every
    user, holds it: test_the_broker_topology_is_a_job_of_its_own_...)"""
    department_consumers = {"departments-nameko", "departments-pika"}
    department_credentials = {"BROKER_USERS_SECRET", "DEPARTMENT_AMQP_URIS"}
    services = compose_file()["services"]
    for name in department_consumers:
        assert "BROKER_USERS_SECRET" in services[name]["environment"], name
        # the broker's address only: no administrator's credentials in a department's process
        assert services[name]["environment"]["AMQP_URI"] == "amqp://rabbitmq:5672/onestop"
    for name in config.SERVICES:
        assert not department_credentials & set(services[name]["environment"]), name
    for overlay in OVERLAYS:
        for name, deployment in by_kind(rendered[overlay], "Deployment").items():
            env = {
                e["name"]
                for c in deployment["spec"]["template"]["spec"]["containers"]
                for e in c.get("env", [])
            }
            assert not {"DEPARTMENT_AMQP_URIS"} & env, (overlay, name)
            if name in department_consumers:
                [amqp] = [
                    e
                    for c in deployment["spec"]["template"]["spec"]["containers"]
                    for e in c["env"]
                    if e["name"] == "AMQP_URI"
                ]
                assert amqp == {"name": "AMQP_URI", "value": "amqp://rabbitmq:5672/%2F"}
            assert ("BROKER_USERS_SECRET" in env) == (name in department_consumers), (
                overlay,
                name,
            )


def test_the_runner_gives_routing_no_department_credentials(monkeypatch):
    """`make run` and the test meshes: routing's extra environment names no department URI,
    and what the runner's own environment holds of the departments' credentials reaches only
    the department consumers, through their entries."""
    monkeypatch.setenv("DEPARTMENT_AMQP_URIS", '{"health": "amqp://u:p@h/v"}')
    table = runner.processes(["health", "taxation"])
    for name in config.SERVICES:
        assert not {"BROKER_USERS_SECRET", "DEPARTMENT_AMQP_URIS"} & set(table[name][1]), name
    assert "DEPARTMENT_AMQP_URIS" in table["departments-nameko"][1]
    inherited = runner.verifier_env(
        {"BROKER_USERS_SECRET": "s" * 32, "DEPARTMENT_AMQP_URIS": "{}", "PATH": "/bin"}
    )
    assert "BROKER_USERS_SECRET" not in inherited and "DEPARTMENT_AMQP_URIS" not in inherited
    assert inherited["PATH"] == "/bin"


def test_services_verify_tokens_with_public_keys_and_only_the_screens_hold_the_issuers_key(
    rendered,
):
    """docs/adr/0015, 0024: AUTH_PUBLIC_KEYS is required for every service; AUTH_SIGNING_KEY
    (the issuer's private key) is given to web, which signs people in, and to no other
    container: from .env in compose, from a Secret in Kubernetes, never a value."""
    services = compose_file()["services"]
    example = (ROOT / ".env.example").read_text()
    for name in config.SERVICES:
        assert services[name]["environment"]["AUTH_PUBLIC_KEYS"].startswith("${AUTH_PUBLIC_KEYS:?")
    assert re.search(r"^AUTH_PUBLIC_KEYS=CHANGE-ME", example, re.MULTILINE)
    assert re.search(r"^AUTH_SIGNING_KEY=CHANGE-ME", example, re.MULTILINE)
    holding = {n for n, s in services.items() if "AUTH_SIGNING_KEY" in s.get("environment", {})}
    assert holding == set(config.FRONTENDS)
    for name in config.FRONTENDS:
        assert services[name]["environment"]["AUTH_SIGNING_KEY"].startswith("${AUTH_SIGNING_KEY:?")
        assert "AUTH_PUBLIC_KEYS" not in services[name]["environment"]  # it verifies nothing
    for overlay in OVERLAYS:
        holding = set()
        for name, deployment in by_kind(rendered[overlay], "Deployment").items():
            pod = deployment["spec"]["template"]["spec"]
            for container in pod["containers"] + pod.get("initContainers", []):
                env = {e["name"]: e for e in container.get("env", [])}
                if container["name"] in config.SERVICES:
                    assert env["AUTH_PUBLIC_KEYS"]["valueFrom"]["configMapKeyRef"] == {
                        "name": "onestop-auth-public-keys",
                        "key": "jwks.json",
                    }
                if "AUTH_SIGNING_KEY" in env:
                    holding.add(name)
                    assert env["AUTH_SIGNING_KEY"]["valueFrom"]["secretKeyRef"] == {
                        "name": "onestop-auth-signing-key",
                        "key": "signing.pem",
                    }
        assert holding == set(config.FRONTENDS), overlay


def test_a_key_in_the_shell_never_reaches_a_generated_file(monkeypatch):
    """The runner hands web this shell's AUTH_SIGNING_KEY (and WEB_DEV_SIGNIN): generating
    the deployment files from such a shell writes the same files, without the key."""
    key = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
    monkeypatch.setenv("AUTH_SIGNING_KEY", key)
    monkeypatch.setenv("WEB_DEV_SIGNIN", "true")
    files = deploy.generated_files()
    assert not any(key in text for text in files.values())
    assert deploy.stale_files() == []


def test_the_demo_sign_in_is_off_unless_a_demo_turns_it_on(rendered):
    """WEB_DEV_SIGNIN hands anyone a clerk's or a supervisor's token: `make run` turns it on,
    compose only when .env says so, Kubernetes only in the demo overlay."""
    with deploy.default_environment():
        _, local = runner.processes(rabbitmq.departments())["web"]
    assert local["WEB_DEV_SIGNIN"] == "true"
    web = compose_file()["services"]["web"]
    assert web["environment"]["WEB_DEV_SIGNIN"] == "${WEB_DEV_SIGNIN:-false}"
    assert web.get("profiles") is None  # the screens run in production too
    for overlay in OVERLAYS:
        container = by_kind(rendered[overlay], "Deployment")["web"]["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in container["containers"][0]["env"]}
        assert env["WEB_DEV_SIGNIN"] == ("true" if overlay == "demo" else "false"), overlay


def test_the_screens_are_reached_through_the_gateway_and_scraped_on_their_port(rendered):
    """The gateway forwards every path outside /api to web at WEB_HOST:WEB_PORT; web waits
    for nothing and the gateway waits for it; Prometheus scrapes its /metrics."""
    services = compose_file()["services"]
    for name in config.FRONTENDS:
        port = config.FRONTENDS[name]
        assert services["gateway"]["environment"][f"{name.upper()}_HOST"] == name
        assert services["gateway"]["depends_on"][name] == {"condition": "service_healthy"}
        assert "depends_on" not in services[name]  # no broker topology, no store to wait for
        assert services[name]["expose"] == [str(port)] and "ports" not in services[name]
        assert services[name]["read_only"] is True
        assert services[name]["environment"]["ONESTOP_PROCESS"] == name
        scrape = {j["job_name"]: j for j in prometheus.compose_config()["scrape_configs"]}
        assert scrape[name]["static_configs"][0]["targets"] == [f"{name}:{port}"]
        assert scrape[name]["metrics_path"] == "/metrics"
        for overlay in OVERLAYS:
            deployment = by_kind(rendered[overlay], "Deployment")[name]
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["ports"] == [{"name": "http", "containerPort": port}]
            assert container["readinessProbe"]["httpGet"]["path"] == "/health"
            assert by_kind(rendered[overlay], "Service")[name]["spec"]["ports"][0]["port"] == port
            assert "AMQP_URI" not in str(container["env"]) and "MONGO" not in str(container["env"])


def test_the_kubernetes_config_names_every_host_the_gateway_forwards_to():
    """The gateway reads <NAME>_HOST of each service and of web from onestop-config (compose
    sets them itself); a missing one would send its requests to 127.0.0.1."""
    data = yaml.safe_load((ROOT / "deploy/kubernetes/base/config.yaml").read_text())["data"]
    for name in (*config.SERVICES, *config.FRONTENDS):
        assert data[f"{name.upper()}_HOST"] == name, name


def test_compose_is_safe_by_default():
    """The licence key on a volume, the reference departments (which approve by rule)
    only in the demo profile (one token key set for every service: the test above)."""
    services = compose_file()["services"]
    for name, service in services.items():
        assert service.get("profiles") == (
            ["demo"] if name in config.DEPARTMENT_CONSUMERS else None
        ), name
    license_service = services["license"]
    data_dir = license_service["environment"]["DATA_DIR"]
    assert f"license-keys:{data_dir}" in license_service["volumes"]
    assert "license-keys" in compose_file()["volumes"]


def test_the_local_images_override_changes_only_images_and_the_store():
    override = yaml.safe_load((ROOT / "deploy" / "compose" / "local-images.yml").read_text())
    main = compose_file()["services"]
    for name, service in override["services"].items():
        assert name in main, name
        if name == "mongodb":
            continue
        assert set(service) <= {"image", "profiles", "environment"}, name
        assert set(service.get("environment", {})) <= {"MONGO_URI"}, name


def test_production_has_no_reference_department(rendered):
    """They approve by rule: a real deployment must not issue licences nobody looked at."""
    for overlay in ("production", "local"):
        documents = rendered[overlay]
        for kind in ("Deployment", "ScaledObject", "Service", "PodDisruptionBudget"):
            assert not set(by_kind(documents, kind)) & set(config.DEPARTMENT_CONSUMERS), kind
    assert set(config.DEPARTMENT_CONSUMERS) <= set(by_kind(rendered["demo"], "Deployment"))


def selects(policy, pod_labels):
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(pod_labels.get(key) == value for key, value in wanted.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_is_denied_by_default_and_every_pod_has_its_allow_policy(rendered, overlay):
    policies = by_kind(rendered[overlay], "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for name, deployment in by_kind(rendered[overlay], "Deployment").items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        own = [
            p
            for n, p in policies.items()
            if n not in ("default-deny", "dns") and selects(p, pod_labels)
        ]
        assert own, f"{name}: no allow policy selects its pods"


def test_network_policies_allow_only_what_each_component_needs(rendered):
    policies = by_kind(rendered["production"], "NetworkPolicy")

    def ports(rules):
        return {p["port"] for rule in rules for p in rule.get("ports", [])}

    gateway = policies["gateway"]["spec"]
    # the public side: only from the ingress controller, to the gateway's own port
    public = [r for r in gateway["ingress"] if "ingress-nginx" in str(r["from"])]
    assert ports(public) == {config.GATEWAY_PORT}
    upstreams = (*config.SERVICES, *config.FRONTENDS)
    assert ports(gateway["egress"]) == {prometheus.default_port(s) for s in upstreams}
    for name in config.FRONTENDS:
        # only the gateway (and Prometheus, on the same port) reach the screens; they reach
        # nothing (DNS aside): no broker, no store, no service
        spec = policies[name]["spec"]
        assert spec["policyTypes"] == ["Ingress"] and "egress" not in spec
        assert ports(spec["ingress"]) == {config.FRONTENDS[name]}
        sources = sorted(str(source) for rule in spec["ingress"] for source in rule["from"])
        assert len(sources) == 2
        assert "'app.kubernetes.io/name': 'gateway'" in sources[1] and "monitoring" in sources[0]
        for other, policy in policies.items():  # and nobody else lets traffic out to them
            if other not in ("gateway", name):
                assert f"'app.kubernetes.io/name': '{name}'" not in str(policy["spec"]), other
    broker = str(policies["rabbitmq"]["spec"]["ingress"])
    for http_only in ("gateway", *config.FRONTENDS):
        assert f"'app.kubernetes.io/name': '{http_only}'" not in broker, http_only
    assert "27017" not in str(gateway["egress"]) and "5672" not in str(gateway["egress"])
    for service in config.SERVICES:
        spec = policies[service]["spec"]
        assert ports(spec["egress"]) <= {5672, 27017}  # no management API (the job's)
        # Prometheus reaches the metrics port, nothing else comes in but the gateway
        sources = {str(r["from"]) for r in spec["ingress"]}
        assert all("monitoring" in s or "gateway" in s for s in sources)
    store = policies["mongodb"]["spec"]
    allowed = str(store["ingress"])
    assert "gateway" not in allowed and all(s in allowed for s in config.SERVICES)


def test_each_service_reads_the_store_as_its_own_user_with_rights_on_its_own_database(rendered):
    production = rendered["production"]
    users = {
        u["name"]: u
        for u in by_kind(production, "MongoDBCommunity")["onestop-mongodb"]["spec"]["users"]
    }
    deployments = by_kind(production, "Deployment")
    for service in config.SERVICES:
        assert users[service]["roles"] == [{"name": "readWrite", "db": config.db_name(service)}]
        env = {
            e["name"]: e
            for e in deployments[service]["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        secret = env["MONGO_URI"]["valueFrom"]["secretKeyRef"]["name"]
        assert secret == f"onestop-mongodb-admin-{service}"
        # and its broker user, with its own password key
        assert env["AMQP_URI"]["value"].startswith(f"amqp://service.{service}:$(BROKER_PASSWORD)@")
        assert env["BROKER_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == service
    gateway_env = str(deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]["env"])
    assert "MONGO_URI" not in gateway_env and "AMQP_URI" not in gateway_env


def test_departments_reach_the_broker_over_tls_only():
    rabbitmq_service = compose_file()["services"]["rabbitmq"]
    assert "${AMQPS_PORT:-5671}:5671" in rabbitmq_service["ports"]
    assert not any(str(p).endswith(":5672") for p in rabbitmq_service["ports"])
    tls = (ROOT / "deploy/rabbitmq/tls.conf").read_text()
    assert "listeners.ssl.default = 5671" in tls
    assert any(
        v.endswith(":/etc/rabbitmq/conf.d/30-tls.conf:ro") for v in rabbitmq_service["volumes"]
    )
    assert "deploy/tls/" in (ROOT / ".gitignore").read_text()  # keys are never committed


def test_kubernetes_offers_departments_amqps_and_nothing_else_from_outside(rendered):
    production = rendered["production"]
    cluster = by_kind(production, "RabbitmqCluster")["rabbitmq"]["spec"]
    assert cluster["tls"]["secretName"] == "onestop-rabbitmq-tls"
    exposed = [
        (name, port["port"])
        for name, service in by_kind(production, "Service").items()
        if service["spec"].get("type") in ("LoadBalancer", "NodePort")
        for port in service["spec"]["ports"]
    ]
    assert exposed == [("rabbitmq-amqps", 5671)]
