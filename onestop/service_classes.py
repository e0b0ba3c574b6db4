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


def service_class(name):
    module, _, attr = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)
