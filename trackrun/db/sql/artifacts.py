"""Artifact versions, tags and labels in the SQL store."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update

from trackrun.db.sql import tables as t
from trackrun.db.sql.filters import contains, label_filters
from trackrun.errors import InvalidArgumentError, NotFoundError
from trackrun.schemas import codec
from trackrun.schemas.lists import ArtifactList
from trackrun.schemas.run import parse_time

LATEST = "latest"


def _uri(project: str, key: str, iteration: int, uid: str) -> str:
    suffix = f"#{iteration}" if iteration else ""
    return f"store://artifacts/{project}/{key}{suffix}@{uid}"


class ArtifactsMixin:
    """Implements the artifact half of RunDB; mixed into SQLStore (which provides _write/_read/_project)."""

    def _artifact_out(self, conn: Connection, rows: list) -> ArtifactList:
        ids = [row.id for row in rows]
        tags: dict[int, list[str]] = {}
        for i in range(0, len(ids), 500):
            for tag_row in conn.execute(select(t.artifact_tags.c.artifact_id, t.artifact_tags.c.tag).where(
                    t.artifact_tags.c.artifact_id.in_(ids[i: i + 500]))):
                tags.setdefault(tag_row.artifact_id, []).append(tag_row.tag)
        out = ArtifactList()
        for row in rows:
            art = codec.loads(row.body)
            art["tags"] = sorted(tags.get(row.id, []))
            art["best_iteration"] = bool(row.best)
            art["uri"] = _uri(row.project, row.key, row.iteration, row.uid)
            out.append(art)
        return out

    def store_artifact(self, key: str, artifact: dict, uid: str, iter: int | None = None, tag: str = "",
                       project: str = "") -> str:
        project = self._project(project or artifact.get("project", ""))
        if not key:
            raise InvalidArgumentError("store_artifact needs a key")
        version = artifact.get("uid") or uuid.uuid4().hex
        iteration = int(iter if iter is not None else artifact.get("iter") or 0)
        updated = parse_time(artifact.get("updated")) or time.time()
        body = {k: v for k, v in artifact.items() if k not in ("tags", "uri", "best_iteration")}
        body.update(key=key, project=project, tree=uid or "", iter=iteration, uid=version)
        labels = artifact.get("labels") or {}
        values = {"project": project, "key": key, "tree": uid or "", "iteration": iteration,
                  "kind": artifact.get("kind") or "", "hash": artifact.get("hash"), "size": artifact.get("size"),
                  "target_path": artifact.get("target_path"), "updated": updated,
                  "best": bool(artifact.get("best_iteration")), "body": codec.dumps(body)}

        row = tuple(values[f] for f in ("project", "key", "tree", "iteration", "kind", "hash", "size",
                                        "target_path", "updated", "best", "body"))

        def write(tx: Any) -> str:
            self._ensure_project_fast(tx, project)
            art_id = tx.scalar("artifact_id", (version,)) if artifact.get("uid") else None
            if art_id is None:
                art_id = tx.scalar("insert_artifact", (version, *row))
            else:
                tx.execute("update_artifact", (*row, art_id))
                tx.execute("delete_artifact_labels", (art_id,))
            tx.executemany("insert_artifact_label",
                           [(art_id, str(k)[:255], str(v)[:1024]) for k, v in labels.items()])
            for name in dict.fromkeys([LATEST, tag] if tag else [LATEST]):
                tx.execute("set_artifact_tag", (project, key, name, art_id))
            return version

        version = self._write_fast(write, f"store artifact {key}")
        self._known_projects.add(project)
        return version

    @staticmethod
    def _set_tag(conn: Connection, project: str, key: str, tag: str, art_id: int) -> None:
        where = and_(t.artifact_tags.c.project == project, t.artifact_tags.c.key == key,
                     t.artifact_tags.c.tag == tag)
        if conn.execute(select(t.artifact_tags.c.artifact_id).where(where)).first() is None:
            conn.execute(insert(t.artifact_tags).values(project=project, key=key, tag=tag, artifact_id=art_id))
        else:
            conn.execute(update(t.artifact_tags).where(where).values(artifact_id=art_id))

    def tag_artifact(self, key: str, tag: str, project: str = "", uid: str = "") -> None:
        """Point ``tag`` at the version ``uid`` of ``key`` (moving it from any other version)."""
        project = self._project(project)

        def write(conn: Connection) -> None:
            art_id = conn.execute(select(t.artifacts.c.id).where(
                t.artifacts.c.uid == uid, t.artifacts.c.project == project, t.artifacts.c.key == key)).scalar()
            if art_id is None:
                raise NotFoundError(f"artifact {project}/{key}@{uid} not found")
            self._set_tag(conn, project, key, tag, art_id)

        self._write(write, f"tag artifact {key}")

    def mark_best_iteration(self, project: str, tree: str, iteration: int) -> None:
        """Flag the artifacts of iteration ``iteration`` of hyper run ``tree`` as the best ones."""
        project = self._project(project)
        self._write(lambda c: c.execute(update(t.artifacts).where(
            t.artifacts.c.project == project, t.artifacts.c.tree == tree, t.artifacts.c.iteration == iteration
        ).values(best=True)), "mark the best iteration's artifacts")

    def read_artifact(self, key: str, tag: str = "", iter: int | None = None, project: str = "",
                      tree: str = "", uid: str = "") -> dict:
        project = self._project(project)
        query = select(t.artifacts).where(t.artifacts.c.project == project, t.artifacts.c.key == key)
        if uid:
            query = query.where(t.artifacts.c.uid == uid)
        elif tree:
            query = query.where(t.artifacts.c.tree == tree)
            if iter is not None:
                query = query.where(t.artifacts.c.iteration == iter)
        else:
            if iter is not None:
                # a given iteration of the version the tag names: same producer run, that iteration
                tagged = select(t.artifacts.c.tree).join(
                    t.artifact_tags, t.artifact_tags.c.artifact_id == t.artifacts.c.id).where(
                    t.artifact_tags.c.project == project, t.artifact_tags.c.key == key,
                    t.artifact_tags.c.tag == (tag or LATEST)).scalar_subquery()
                query = query.where(t.artifacts.c.tree == tagged, t.artifacts.c.iteration == iter)
            else:
                query = query.join(t.artifact_tags, t.artifact_tags.c.artifact_id == t.artifacts.c.id).where(
                    t.artifact_tags.c.tag == (tag or LATEST))
        query = query.order_by(t.artifacts.c.updated.desc(), t.artifacts.c.id.desc()).limit(1)

        def read(conn: Connection) -> dict:
            rows = conn.execute(query).all()
            if not rows:
                what = f"{project}/{key}" + (f"@{uid}" if uid else f" (tag {tag or LATEST})" if not tree else
                                             f" from run {tree}")
                raise NotFoundError(f"artifact {what} not found; list them with `trackrun get artifacts`")
            return self._artifact_out(conn, rows)[0]

        return self._read(read)

    def _artifact_filters(self, name: str, project: str, tag: str, labels: Any, since: Any = None,
                          until: Any = None, iter: int | None = None, best_iteration: bool = False,
                          kind: str = "", tree: str = "") -> list:
        conds = []
        if project != "*":
            conds.append(t.artifacts.c.project == self._project(project))
        if name:
            if name.startswith("="):
                conds.append(t.artifacts.c.key == name[1:])
            else:
                conds.append(contains(t.artifacts.c.key, name))
        if tag and tag != "*":
            tagged = exists().where(t.artifact_tags.c.artifact_id == t.artifacts.c.id, t.artifact_tags.c.tag == tag)
            conds.append(tagged if tag == LATEST else or_(tagged, t.artifacts.c.tree == tag))
        elif not tag:
            conds.append(exists().where(t.artifact_tags.c.artifact_id == t.artifacts.c.id,
                                        t.artifact_tags.c.tag == LATEST))
        if since is not None:
            conds.append(t.artifacts.c.updated >= parse_time(since))
        if until is not None:
            conds.append(t.artifacts.c.updated <= parse_time(until))
        if iter is not None:
            conds.append(t.artifacts.c.iteration == iter)
        if best_iteration:
            conds.append(or_(t.artifacts.c.best.is_(True), t.artifacts.c.iteration == 0))
        if kind:
            conds.append(t.artifacts.c.kind == kind)
        if tree:
            conds.append(t.artifacts.c.tree == tree)
        conds.extend(label_filters(labels, t.artifact_labels, t.artifact_labels.c.artifact_id, t.artifacts.c.id))
        return conds

    def list_artifacts(self, name: str = "", project: str = "", tag: str = "", labels: Any = None,
                       since: Any = None, until: Any = None, iter: int | None = None,
                       best_iteration: bool = False, kind: str = "", tree: str = "") -> ArtifactList:
        conds = self._artifact_filters(name, project, tag, labels, since, until, iter, best_iteration, kind, tree)
        query = select(t.artifacts).where(*conds).order_by(t.artifacts.c.updated.desc(), t.artifacts.c.id.desc())
        return self._read(lambda c: self._artifact_out(c, c.execute(query).all()))

    def _delete_artifact_ids(self, conn: Connection, ids: list[int]) -> int:
        for i in range(0, len(ids), 500):
            chunk = ids[i: i + 500]
            conn.execute(delete(t.artifact_tags).where(t.artifact_tags.c.artifact_id.in_(chunk)))
            conn.execute(delete(t.artifact_labels).where(t.artifact_labels.c.artifact_id.in_(chunk)))
            conn.execute(delete(t.artifacts).where(t.artifacts.c.id.in_(chunk)))
        return len(ids)

    def del_artifact(self, key: str, tag: str = "", project: str = "", uid: str = "") -> None:
        project = self._project(project)
        query = select(t.artifacts.c.id).where(t.artifacts.c.project == project, t.artifacts.c.key == key)
        if uid:
            query = query.where(t.artifacts.c.uid == uid)
        elif tag:
            query = query.where(exists().where(t.artifact_tags.c.artifact_id == t.artifacts.c.id,
                                               t.artifact_tags.c.tag == tag))

        def write(conn: Connection) -> int:
            ids = list(conn.execute(query).scalars())
            if not ids:
                raise NotFoundError(f"artifact {project}/{key} not found")
            self._delete_artifact_ids(conn, ids)
            self._retag_latest(conn, project, key)
            return len(ids)

        self._write(write, f"delete artifact {key}")

    @staticmethod
    def _retag_latest(conn: Connection, project: str, key: str) -> None:
        """After a delete, `latest` moves back to the newest remaining version."""
        where = and_(t.artifact_tags.c.project == project, t.artifact_tags.c.key == key,
                     t.artifact_tags.c.tag == LATEST)
        if conn.execute(select(t.artifact_tags.c.artifact_id).where(where)).first() is not None:
            return
        newest = conn.execute(select(t.artifacts.c.id).where(t.artifacts.c.project == project, t.artifacts.c.key == key)
                              .order_by(t.artifacts.c.updated.desc(), t.artifacts.c.id.desc()).limit(1)).scalar()
        if newest is not None:
            conn.execute(insert(t.artifact_tags).values(project=project, key=key, tag=LATEST, artifact_id=newest))

    def del_artifacts(self, name: str = "", project: str = "", tag: str = "", labels: Any = None) -> int:
        conds = self._artifact_filters(name, project, tag or "*", labels)
        query = select(t.artifacts.c.id, t.artifacts.c.project, t.artifacts.c.key).where(*conds)

        def write(conn: Connection) -> int:
            rows = conn.execute(query).all()
            count = self._delete_artifact_ids(conn, [r.id for r in rows])
            for project_, key in {(r.project, r.key) for r in rows}:
                self._retag_latest(conn, project_, key)
            return count

        return self._write(write, "delete artifacts")
