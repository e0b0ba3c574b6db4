"""What a domain rule refuses, in the domain's words. No web, no nameko: domain modules
raise these, and `onestop.common.http` maps each to its HTTP status in one table
(`DOMAIN_STATUSES`), so no domain module knows about HTTP."""


class DomainError(Exception):
    """A refusal by a domain rule; `field` names the input at fault, when there is one.
    `fields` gives the per-field messages instead, when they say more than `message`
    (marshmallow's nested messages, or a hint per field)."""

    def __init__(self, message, field=None, fields=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.given_fields = fields

    @property
    def fields(self):
        if self.given_fields is not None:
            return self.given_fields
        return {self.field: [self.message]} if self.field else {}


class Invalid(DomainError):
    """The input breaks a rule (HTTP 400)."""


class NotAllowed(DomainError):
    """The caller may not do this (HTTP 403)."""


class Unknown(DomainError):
    """Nothing by that name, or nothing the caller may see (HTTP 404)."""


class Conflicting(DomainError):
    """The thing is not in a state that allows this, or changed meanwhile (HTTP 409)."""
