"""gateway: the one public base URL; routes each API path to the service that owns it."""
