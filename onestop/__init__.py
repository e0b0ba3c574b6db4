"""One-step Approval mesh: the platform's services and their shared contracts."""

import warnings

# eventlet announces its deprecation on import; nameko 2.14 needs it (docs/adr/0001).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
