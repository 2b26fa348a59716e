"""What the parts of the store share: the database, its models, the SQL cache, the write lock,
and the project a store is bound to."""

from __future__ import annotations

import copy

import peewee as pw

from .db import SqlCache, WriteLock, is_postgres, transaction
from .models import Models, bind_models


class StoreBase:
    """The state every part of the store (experiments, runs, registry) works on.

    A store is opened unbound; `for_project` binds a view of it (same database, caches and
    lock) to one project, a namespace of experiments and registered models. Every query reads
    the bound project; a store call on an unbound store is a programming error, never a
    silent default project.
    """

    _project: int | None = None

    def __init__(self, db: pw.Database, artifact_root: str, version_labels: bool = False):
        self.db = db
        self.pg = is_postgres(db)
        self.models: Models = bind_models(db)
        self.sql = SqlCache(db)
        self.write_lock = WriteLock(None if self.pg else db.database)
        self.artifact_root = artifact_root
        # Model versions carry a label (a dialect's version string, e.g. SemVer), listed first
        # among their aliases; requests name a version by its label, or by its number.
        self.version_labels = version_labels

    @property
    def project(self) -> int:
        if self._project is None:
            raise RuntimeError("store used without a project: bind one with for_project(id)")
        return self._project

    def for_project(self, project: int):
        """This store bound to `project`: a cheap view sharing the database and caches."""
        bound = copy.copy(self)
        bound._project = int(project)
        return bound

    def transaction(self):
        """A context in which several store calls run as one write transaction."""
        return transaction(self)

    def text_order(self, column) -> pw.Node:
        """Byte-wise text order on both backends (SQLite's default), whatever PG's collation."""
        return text_order(self.pg, column)


def text_order(pg: bool, column) -> pw.Node:
    """Byte-wise text order on both backends (SQLite's default), whatever PG's collation."""
    return pw.NodeList((column, pw.SQL('COLLATE "C"'))) if pg else column
