"""Partner connectors, one module per partner kind. Importing this package registers them all.

The table of partners (code, partner, what it is asked, what it confirms) is in
sijill/verification/README.md.
"""

from sijill.verification.connectors import (  # noqa: F401  (registration)
    civil_status,
    land,
    schools,
    social_security,
    telecom,
    utilities,
    vehicles,
)
from sijill.verification.connectors.base import (
    CONNECTORS,
    Connector,
    Findings,
    MalformedAnswer,
    Member,
    PartnerError,
    Reply,
    Subject,
    register,
)

__all__ = ["CONNECTORS", "Connector", "Findings", "MalformedAnswer", "Member", "PartnerError",
           "Reply", "Subject", "register"]
