"""The platform's services, one folder each (docs/adr/0014-services-layout.md)."""
