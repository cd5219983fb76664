"""Run databases: one `RunDB` contract, chosen by URL (see `factory.get_run_db`)."""

from trackrun.db.base import RunDB
from trackrun.db.factory import get_run_db

__all__ = ["RunDB", "get_run_db"]
