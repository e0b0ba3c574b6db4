"""Which nameko class each process name runs, imported on demand.

Kept apart from onestop/run_service.py, which monkey-patches the whole process with
eventlet as it is imported: a tool that only looks at the classes (ops/deploy/
broker_permissions.py) must not patch the process it runs in."""

import importlib

SERVICE_CLASSES = {
    "catalog": "services.catalog.service:CatalogService",
    "intake": "services.intake.service:IntakeService",
    "routing": "services.routing.service:RoutingService",
    "license": "services.license.service:LicenseService",
    "feedback": "services.feedback.service:FeedbackService",
    "notify": "services.notify.service:NotifyService",
    "departments-nameko": "departments.reference.nameko_department:ReferenceDepartment",
}

# what a process runs besides its class, each service in a container of its own config:
# the reference nameko departments, one per department as its own broker user
DEPARTMENT_SERVICES = {
    "departments-nameko": "departments.reference.nameko_department:DEPARTMENT_SERVICES",
}


def _load(path):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def service_class(name):
    return _load(SERVICE_CLASSES[name])


def department_services(name):
    """department -> nameko service class, for a process that runs departments."""
    return _load(DEPARTMENT_SERVICES[name]) if name in DEPARTMENT_SERVICES else {}
