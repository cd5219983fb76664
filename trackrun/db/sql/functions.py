"""Functions (versioned by content hash, tags that move) and projects in the SQL store."""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from trackrun.db.sql import tables as t
from trackrun.errors import NotFoundError
from trackrun.schemas import codec
from trackrun.schemas.run import label_conditions


def function_hash(function: dict) -> str:
    """sha1 of the function with its tag, hash, update time and status blanked: equal code, equal hash."""
    body = copy.deepcopy(function)
    meta = body.setdefault("metadata", {})
    meta["tag"], meta["hash"], meta["updated"] = "", "", None
    body["status"] = None
    return hashlib.sha1(codec.dumps(_sorted(body)).encode()).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


class FunctionsMixin:
    """Implements functions and projects of RunDB; mixed into SQLStore."""

    def store_function(self, function: dict, name: str, project: str = "", tag: str = "",
                       versioned: bool = False) -> str:
        project = self._project(project or function.get("metadata", {}).get("project", ""))
        digest = function_hash(function)
        body = copy.deepcopy(function)
        meta = body.setdefault("metadata", {})
        meta.update(name=name, project=project, hash=digest, tag=tag or "latest")
        now = time.time()

        def write(conn: Connection) -> str:
            self._ensure_project(conn, project)
            where = and_(t.functions.c.project == project, t.functions.c.name == name, t.functions.c.hash == digest)
            fn_id = conn.execute(select(t.functions.c.id).where(where)).scalar()
            if fn_id is None:
                fn_id = conn.execute(insert(t.functions).values(
                    project=project, name=name, hash=digest, updated=now, body=codec.dumps(body))
                ).inserted_primary_key[0]
            else:
                conn.execute(update(t.functions).where(t.functions.c.id == fn_id).values(updated=now))
            tag_where = and_(t.function_tags.c.project == project, t.function_tags.c.name == name,
                             t.function_tags.c.tag == (tag or "latest"))
            if conn.execute(select(t.function_tags.c.function_id).where(tag_where)).first() is None:
                conn.execute(insert(t.function_tags).values(project=project, name=name, tag=tag or "latest",
                                                            function_id=fn_id))
            else:
                conn.execute(update(t.function_tags).where(tag_where).values(function_id=fn_id))
            return digest

        return self._write(write, f"store function {name}")

    def get_function(self, name: str, project: str = "", tag: str = "", hash_key: str = "") -> dict:
        project = self._project(project)
        query = select(t.functions).where(t.functions.c.project == project, t.functions.c.name == name)
        if hash_key:
            query = query.where(t.functions.c.hash == hash_key)
        else:
            query = query.join(t.function_tags, t.function_tags.c.function_id == t.functions.c.id).where(
                t.function_tags.c.tag == (tag or "latest"))
        row = self._read(lambda c: c.execute(query.limit(1)).first())
        if row is None:
            ref = f"@{hash_key}" if hash_key else f":{tag or 'latest'}"
            raise NotFoundError(f"function {project}/{name}{ref} not found")
        body = codec.loads(row.body)
        body.setdefault("metadata", {})["tag"] = tag if not hash_key else ""
        return body

    def list_functions(self, name: str = "", project: str = "", tag: str = "", labels: Any = None) -> list[dict]:
        project = self._project(project)
        query = select(t.functions).where(t.functions.c.project == project)
        if name:
            query = query.where(t.functions.c.name == name)
        if tag != "*":
            query = query.join(t.function_tags, t.function_tags.c.function_id == t.functions.c.id).where(
                t.function_tags.c.tag == (tag or "latest"))
        rows = self._read(lambda c: c.execute(query.order_by(t.functions.c.updated.desc())).all())
        out = [codec.loads(row.body) for row in rows]
        for lname, op, value in label_conditions(labels):
            def keep(fn: dict, lname: str = lname, op: str = op, value: Any = value) -> bool:
                have = fn.get("metadata", {}).get("labels", {}) or {}
                return {"=": lambda: str(have.get(lname)) == value, "!=": lambda: str(have.get(lname)) != value,
                        "~=": lambda: value in str(have.get(lname, "")), "exists": lambda: lname in have}[op]()
            out = [fn for fn in out if keep(fn)]
        return out

    def delete_function(self, name: str, project: str = "") -> None:
        project = self._project(project)

        def write(conn: Connection) -> None:
            conn.execute(delete(t.function_tags).where(t.function_tags.c.project == project,
                                                       t.function_tags.c.name == name))
            conn.execute(delete(t.functions).where(t.functions.c.project == project, t.functions.c.name == name))

        self._write(write, f"delete function {name}")

    # -- projects ---------------------------------------------------------------------------------
    def list_projects(self) -> list[dict]:
        def read(conn: Connection) -> list[dict]:
            runs = dict(conn.execute(select(t.runs.c.project, func.count()).where(t.runs.c.iteration == 0)
                                     .group_by(t.runs.c.project)).all())
            arts = dict(conn.execute(select(t.artifacts.c.project, func.count()).group_by(t.artifacts.c.project)).all())
            rows = conn.execute(select(t.projects).order_by(t.projects.c.name)).all()
            return [{"name": r.name, "created": r.created, "runs": runs.get(r.name, 0),
                     "artifacts": arts.get(r.name, 0)} for r in rows]

        return self._read(read)

    def delete_project(self, name: str) -> None:
        def write(conn: Connection) -> None:
            if conn.execute(select(t.projects.c.name).where(t.projects.c.name == name)).first() is None:
                raise NotFoundError(f"project {name} not found")
            run_ids = select(t.runs.c.id).where(t.runs.c.project == name)
            conn.execute(delete(t.run_labels).where(t.run_labels.c.run_id.in_(run_ids)))
            conn.execute(delete(t.run_numbers).where(t.run_numbers.c.run_id.in_(run_ids)))
            art_ids = select(t.artifacts.c.id).where(t.artifacts.c.project == name)
            conn.execute(delete(t.artifact_labels).where(t.artifact_labels.c.artifact_id.in_(art_ids)))
            fn_ids = select(t.functions.c.id).where(t.functions.c.project == name)
            conn.execute(delete(t.function_tags).where(t.function_tags.c.function_id.in_(fn_ids)))
            for table in (t.runs, t.logs, t.metrics, t.artifact_tags, t.artifacts, t.functions):
                conn.execute(delete(table).where(table.c.project == name))
            conn.execute(delete(t.projects).where(t.projects.c.name == name))
            self._known_projects.discard(name)

        self._write(write, f"delete project {name}")
