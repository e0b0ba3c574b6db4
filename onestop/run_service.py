"""Start one service process: `python -m onestop.run_service <name>`.

The same command runs locally (from the runner), in docker-compose and on Kubernetes.
"""

import os
import warnings

os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")
warnings.filterwarnings("ignore", message="Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402  (must precede every other import)

import logging  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from onestop.common import broker_users, config  # noqa: E402
from onestop.common.logs import configure_logging  # noqa: E402
from onestop.service_classes import (  # noqa: E402
    SERVICE_CLASSES,
    department_services,
    service_class,
)


class ContainersRunner(ServiceRunner):
    """nameko's ServiceRunner, where a service may be given a config of its own."""

    def add_service(self, cls, service_config=None):
        container = self.container_cls(cls, service_config or self.config)
        self.service_map[container.service_name] = container


def runner_for(name):
    """The runner of process `name`: a service of the mesh with its config; the reference
    nameko departments as one container per department, each connected as its own broker
    user (departments/reference/nameko_department.py), and one for the process's probes."""
    if name in config.SERVICES:
        runner = ContainersRunner(config.nameko_config(name))
        runner.add_service(service_class(name))
        return runner
    services = department_services(name)
    probes, own = broker_users.department_container_configs(
        services, broker_users.department_nameko_config(name)
    )
    runner = ContainersRunner(probes)
    runner.add_service(service_class(name))
    for department, cls in services.items():
        runner.add_service(cls, own[department])
    return runner


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in SERVICE_CLASSES:
        print(
            f"usage: python -m onestop.run_service {{{','.join(SERVICE_CLASSES)}}}", file=sys.stderr
        )
        return 2
    name = argv[0]
    config.refuse_weak_secrets(name)
    configure_logging(name)
    runner = runner_for(name)
    runner.start()
    logging.getLogger(__name__).info("%s started", name)
    try:
        runner.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
