"""The fault rig moved to ``support.faults`` (bench/ shares it); these names stay for old imports."""

from support.faults.report import Outage, Report
from support.faults.rig import Rig, freeze, kill_and_restart
from support.faults.servers import RedisServer

__all__ = ["Outage", "RedisServer", "Report", "Rig", "freeze", "kill_and_restart"]
