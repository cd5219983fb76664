"""`RunObject`: what running a task returns; a view of the run record with helpers to read its outputs."""

from __future__ import annotations

import sys
import time
from typing import Any

from trackrun.errors import RunError
from trackrun.schemas.run import TERMINAL_STATES


class RunObject:
    """A run record (``metadata`` / ``spec`` / ``status``) and the store it came from."""

    def __init__(self, struct: dict, db: Any = None):
        self._struct = struct
        self._db = db

    @classmethod
    def from_dict(cls, struct: dict, db: Any = None) -> RunObject:
        return cls(struct, db)

    @property
    def db(self) -> Any:
        if self._db is None:
            from trackrun.db import get_run_db

            self._db = get_run_db()
        return self._db

    @property
    def metadata(self) -> dict:
        return self._struct["metadata"]

    @property
    def spec(self) -> dict:
        return self._struct["spec"]

    @property
    def status(self) -> dict:
        return self._struct["status"]

    def uid(self) -> str:
        return self.metadata["uid"]

    @property
    def error(self) -> str:
        return self.status.get("error", "")

    def refresh(self) -> RunObject:
        meta = self.metadata
        self._struct = self.db.read_run(meta["uid"], meta["project"], meta.get("iteration", 0))
        return self

    def state(self) -> str:
        """The current state, read again from the store unless the run has ended."""
        if self.status.get("state") not in TERMINAL_STATES:
            self.refresh()
        return self.status.get("state", "")

    @property
    def outputs(self) -> dict:
        """Results plus, for each artifact, its store URI (datasets, models) or path."""
        out = dict(self.status.get("results") or {})
        for art in self.status.get("artifacts") or []:
            out[art["key"]] = self._artifact_target(art)
        return out

    @staticmethod
    def _artifact_target(art: dict) -> str:
        if art.get("kind") in ("dataset", "model") and art.get("uri"):
            return art["uri"]
        return art.get("target_path") or art.get("uri", "")

    def output(self, key: str) -> Any:
        """A result's value, or an artifact's store URI / path; None when the run has neither."""
        results = self.status.get("results") or {}
        if key in results:
            return results[key]
        for art in self.status.get("artifacts") or []:
            if art.get("key") == key:
                return self._artifact_target(art)
        return None

    def artifact(self, key: str):
        """The artifact ``key`` as a data item (``.get()``, ``.local()``, ``.as_df()``, ``.meta``)."""
        from trackrun.datastore.dataitem import get_dataitem

        for art in self.status.get("artifacts") or []:
            if art.get("key") == key:
                return get_dataitem(art.get("uri") or art["target_path"], key=key, db=self.db)
        return None

    def show(self) -> None:
        meta = self.metadata
        self.db.list_runs(uid=meta["uid"], project=meta["project"]).show()

    def logs(self, watch: bool = True, offset: int = 0) -> str:
        """Print the run's log (following it while the run goes on when ``watch``); return the final state."""
        meta = self.metadata
        while True:
            state, text = self.db.get_log(meta["uid"], meta["project"], offset=offset)
            if text:
                sys.stdout.write(text.decode("utf-8", "replace"))
                sys.stdout.flush()
                offset += len(text)
            if not watch or state in TERMINAL_STATES or not state:
                break
            time.sleep(0.5)
        if state:
            print(f"final state: {state}")
        return state

    def wait_for_completion(self, sleep: float = 1.0, timeout: float = 0, raise_on_failure: bool = True) -> str:
        deadline = time.monotonic() + timeout if timeout else None
        while self.state() not in TERMINAL_STATES:
            if deadline and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.uid()} did not end within {timeout} s")
            time.sleep(sleep)
        if raise_on_failure and self.state() != "completed":
            raise RunError(self.error or f"run ended {self.state()}", run=self)
        return self.state()

    def to_dict(self) -> dict:
        import copy

        return copy.deepcopy(self._struct)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def to_json(self) -> str:
        from trackrun.schemas import codec

        return codec.dumps(self._struct)

    def __repr__(self) -> str:
        meta = self.metadata
        return (f"RunObject(name={meta.get('name')!r}, uid={meta.get('uid')!r}, state={self.status.get('state')!r}, "
                f"results={self.status.get('results')!r})")
