"""The reference nameko departments: one container per department, each with its own
broker user's URI as AMQP_URI (no administrator's credentials, no other department's)."""

from nameko.containers import ServiceContainer

from departments.reference import nameko_department
from departments.sdk.nameko_entrypoint import ApprovalTask, DepartmentQueueConsumer
from onestop.common import broker_users
from onestop.common.metrics import Metrics

ADMIN = "amqp://admin:admin-password@rabbitmq:5672/onestop"
URIS = {
    "health": "amqp://department.health:pw-h@rabbitmq:5672/onestop",
    "taxation": "amqp://department.taxation:pw-t@rabbitmq:5672/onestop",
}
PROCESS = {
    "AMQP_URI": ADMIN,
    "DEPARTMENT_AMQP_URIS": URIS,
    "WEB_SERVER_ADDRESS": "127.0.0.1:0",
    "max_workers": 2,
    "PREFETCH_COUNT": 2,
    "serializer": "json",
}


class NoRules:
    @staticmethod
    def decide(task):
        return None


def test_each_department_container_holds_only_its_own_users_uri():
    probes, own = broker_users.department_container_configs(["health", "taxation"], PROCESS)
    assert probes["AMQP_URI"] == "amqp://rabbitmq:5672/onestop"  # no credentials at all
    assert "DEPARTMENT_AMQP_URIS" not in probes
    for department, config in own.items():
        assert config["AMQP_URI"] == URIS[department]
        assert config["DEPARTMENT_AMQP_URIS"] == {department: URIS[department]}
        assert ADMIN not in str(config)
        assert config["WEB_SERVER_ADDRESS"] == PROCESS["WEB_SERVER_ADDRESS"]


def test_a_department_without_a_uri_of_its_own_falls_back_to_amqp_uri():
    _, own = broker_users.department_container_configs(
        ["health", "police"], dict(PROCESS, DEPARTMENT_AMQP_URIS={"health": URIS["health"]})
    )
    assert own["police"]["AMQP_URI"] == ADMIN and own["police"]["DEPARTMENT_AMQP_URIS"] == {}


def test_the_department_containers_consume_and_publish_as_their_own_users():
    services = nameko_department.build(["health", "taxation"], NoRules())
    _, own = broker_users.department_container_configs(services, PROCESS)
    for department, cls in services.items():
        container = ServiceContainer(cls, own[department])
        assert container.service_name == f"departments_nameko_{department}"
        [task] = [e for e in container.extensions if isinstance(e, ApprovalTask)]
        [consumer] = [e for e in container.extensions if isinstance(e, DepartmentQueueConsumer)]
        assert consumer.amqp_uri == URIS[department]
        task.setup()  # builds the result publisher (no connection yet)
        assert task._user_id == f"department.{department}"
        [metrics] = [e for e in container.extensions if isinstance(e, Metrics)]
        metrics.setup()  # counted under the process's name, as when all were one class
        assert metrics.calls._name == "departments_nameko_entrypoint_calls"
