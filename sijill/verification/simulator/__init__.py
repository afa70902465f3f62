"""Partner simulator: a local HTTP service answering like the partner bodies (server.py) from
the synthetic population's partner records (records.py)."""

from sijill.verification.simulator.records import PartnerRecords
from sijill.verification.simulator.server import PartnerSimulator

__all__ = ["PartnerRecords", "PartnerSimulator"]
