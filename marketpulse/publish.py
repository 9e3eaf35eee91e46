"""Promotion and rollback: an atomic catalog change per table, recorded in a manifest.

An audit build lives in an immutable directory `<tables>/<layer>/<table>/_v=<run id>`.
Promotion points the published table at that directory (`ALTER TABLE ... SET LOCATION`), a
single metastore update that readers in other sessions see at once. Nothing ever writes
into a directory once a published table may point at it.

A layer has several tables, so a promotion is several such updates. Before the first one the
whole change is written down as a pending manifest; a run killed halfway leaves it behind and
the next `build` or `rollback` rolls the promotion forward first (re-pointing a table is
idempotent). Until then readers may see the layer mixed, each table complete in itself.

A partitioned table (month partitions) is promoted partition by partition: the audit build
holds only the months from the run's rebuild window on, and promotion re-points those
partitions and keeps the older ones where they are. Each partition switch is atomic; a
reader during a promotion that changes several months may see some of them switched first.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from marketpulse.config import AUDIT_SUFFIX, Lake
from marketpulse.engine import EngineClient, quote
from marketpulse.errors import LockHeld, MarketPulseError, PublishError

PENDING = "_pending"  # publish/_pending/<layer>.json: a promotion under way


@dataclass(frozen=True)
class PublishManifest:
    layer: str
    run_id: str
    published_at: str
    tables: dict[str, str]  # published table -> versioned location
    gate: dict[str, Any]
    # published table -> [[column, type], ...]: rollback restores the schema with the data
    schemas: dict[str, list[list[str]]] = field(default_factory=dict)
    # partitioned table -> {"trade_month=2026-11": location}: every partition it serves
    partitions: dict[str, dict[str, str]] = field(default_factory=dict)
    # first day of the first month this run rebuilt; None: every month was rebuilt
    rebuild_from: str | None = None
    # what the build read, so the next run knows what is new: silver, the bronze batch ids
    # it consumed; gold, the silver run it was built on
    inputs: dict[str, Any] = field(default_factory=dict)

    def locations(self) -> list[str]:
        """Every directory this version serves."""
        return [
            *(loc for t, loc in self.tables.items() if t not in self.partitions),
            *(loc for parts in self.partitions.values() for loc in parts.values()),
        ]

    def write(self, directory: Path, name: str | None = None) -> Path:
        """Atomically; by default under a name that sorts by publication time."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (name or f"{self.published_at.replace(':', '')}__{self.run_id}.json")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)
        return path


_HELD: set[Path] = set()  # lake locks this process holds (the lock is re-entrant)


@contextmanager
def lake_lock(lake: Lake) -> Iterator[None]:
    """One run changing a lake's catalog at a time; a second one fails fast."""
    path = lake.run_lock.absolute()
    if path in _HELD:
        yield
        return
    lake.root.mkdir(parents=True, exist_ok=True)
    with lake.run_lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise LockHeld(str(lake.run_lock), handle.read().strip() or "unknown") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat()}")
        handle.flush()
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish_history(lake: Lake, layer: str) -> list[PublishManifest]:
    """Every promotion and rollback of a layer, oldest first."""
    directory = lake.publish / layer
    return [PublishManifest(**json.loads(p.read_text())) for p in sorted(directory.glob("*.json"))]


def collect_garbage(lake: Lake, layer: str, keep: int, current_run: str) -> list[Path]:
    """Delete version directories no recent promotion references (local lakes only).

    The last `keep` publish manifests stay restorable by `rollback`; the running build's own
    directories are never touched. Table roots on S3 (EMR) are not collected here yet.
    """
    if keep < 1:
        raise PublishError("keep at least the published version (keep >= 1)")
    kept = {
        _version_directory(location)
        for manifest in publish_history(lake, layer)[-keep:]
        for location in manifest.locations()
    }
    removed = []
    for version in sorted((lake.tables / layer).glob("*/_v=*")):
        if version.resolve() not in kept and version.name != f"_v={current_run}":
            shutil.rmtree(version)
            removed.append(version)
    return removed


def _version_directory(location: str) -> Path:
    """The `_v=<run>` directory holding a table or partition location."""
    path = Path(location.removeprefix("file:")).resolve()
    return path if path.name.startswith("_v=") else path.parent


def _partition_clause(spec: str) -> str:
    """`trade_month=2026-11` -> `partition (trade_month='2026-11')`."""
    column, value = spec.split("=", 1)
    return f"partition ({column}={quote(value)})"


def served_partitions(
    previous: PublishManifest | None,
    qualified: str,
    columns: list[list[str]],
    rebuild_from: str | None,
    built: dict[str, str],
    sparse: bool = False,
    appended: bool = False,
    whole: bool = False,
) -> dict[str, str]:
    """Every partition the new version of a partitioned table serves: the months an audit
    build rebuilt, and the published months before its rebuild window. A `sparse` table
    (rows only where something happened, like news) may lose a month it no longer has
    rows for; any other table losing one means an upstream went missing. An `appended`
    log keeps every published partition its build did not rewrite, whatever the window;
    one built `whole` (derived anew) serves exactly what it built."""
    if whole or (rebuild_from is None and not appended):
        return dict(built)
    kept_from = "its published partitions" if appended else f"months before {rebuild_from}"
    if previous is None or qualified not in previous.partitions:
        raise PublishError(
            f"{qualified} was built to keep {kept_from}, but no partitioned version of "
            "it is published to keep them from; run `marketpulse build --full-refresh`"
        )
    if previous.schemas.get(qualified) != columns:
        raise PublishError(
            f"{qualified} changed its columns; {kept_from} were built with the old ones. "
            "Nothing was published; run `marketpulse build --full-refresh`"
        )
    if appended:
        return {**previous.partitions[qualified], **built}
    first_rebuilt = rebuild_from[:7]  # yyyy-mm, the month partition value
    kept = {
        spec: location
        for spec, location in previous.partitions[qualified].items()
        if spec.split("=", 1)[1] < first_rebuilt
    }
    lost = sorted(set(previous.partitions[qualified]) - set(kept) - set(built))
    if lost and not sparse:  # an upstream gone missing for some months must not empty them
        raise PublishError(
            f"{qualified}: this run's build has no rows for published months {lost}; an "
            "incremental build never drops a published month. Nothing was published; check "
            "the bronze deliveries of those months, or run `marketpulse build --full-refresh` "
            "to rebuild every month"
        )
    return {**kept, **built}


class Publisher:
    def __init__(
        self, client: EngineClient, lake: Lake, progress: Callable[[str], None] = print
    ) -> None:
        self.client = client
        self.lake = lake
        self.progress = progress

    def location(self, qualified_table: str) -> str:
        for name, value, *_ in self.client.query(f"describe table extended {qualified_table}"):
            if name == "Location":
                return str(value)
        raise PublishError(f"{qualified_table} has no location; was it built by dbt?")

    def served(self, qualified_table: str) -> str | dict[str, str]:
        """What readers of a table get: its location, or each partition's."""
        if not self._describe(qualified_table)[1]:
            return self.location(qualified_table)
        specs = self._partitions(qualified_table)
        return {
            spec: self.location(f"{qualified_table} {_partition_clause(spec)}") for spec in specs
        }

    def _describe(self, qualified_table: str) -> tuple[list[list[str]], list[str]]:
        """A table's columns ([name, type], partition columns included) and its partition
        columns, from one `describe`."""
        rows = self.client.query(f"describe {qualified_table}")
        names = [str(r[0] or "").strip() for r in rows]
        end = next((i for i, n in enumerate(names) if not n or n.startswith("#")), len(rows))
        columns = [[name, data_type] for name, data_type, *_ in rows[:end]]
        if "# Partition Information" not in names:
            return columns, []
        section = names[names.index("# Partition Information") + 1 :]
        return columns, [n for n in section if n and not n.startswith("#")]

    def _partitions(self, qualified_table: str) -> list[str]:
        return [str(r[0]) for r in self.client.query(f"show partitions {qualified_table}")]

    def _exists(self, schema: str, table: str) -> bool:
        return bool(self.client.query(f"show tables in {schema} like {quote(table)}"))

    def promote(
        self,
        layer: str,
        tables: Collection[str],
        run_id: str,
        gate: dict[str, Any],
        *,
        rebuild_from: str | None = None,
        inputs: dict[str, Any] | None = None,
        sparse: Collection[str] = (),
        appended: Collection[str] = (),
        whole: Collection[str] = (),
        carried: Collection[str] = (),
    ) -> PublishManifest:
        """Publish a gated audit build. With `rebuild_from`, partitioned tables keep their
        published months before it and take the audit build's months from it on; the
        `sparse` ones may lose months, the `appended` ones keep every month their build did
        not rewrite, the `whole` ones were built in full (see `served_partitions`). The
        `carried` ones (qualified) were not built: the new version serves their published
        version as it is."""
        audit = layer + AUDIT_SUFFIX
        locations = {f"{layer}.{t}": self.location(f"{audit}.{t}") for t in tables}
        # The gate validated this run's directories; a dbt run by hand since then may have
        # re-pointed an audit table at ungated data. Publish nothing in that case.
        foreign = {t: loc for t, loc in locations.items() if not loc.endswith(f"/_v={run_id}")}
        if foreign:
            raise PublishError(
                f"audit tables were rebuilt by another dbt run after this run's gate: "
                f"{foreign}; nothing was published; run `marketpulse build` again"
            )
        described = {t: self._describe(f"{audit}.{t.split('.')[1]}") for t in locations}
        schemas = {t: columns for t, (columns, _) in described.items()}
        history = self.history(layer)
        previous = history[-1] if history else None
        partitions = {}
        for qualified, location in locations.items():
            audit_table = f"{audit}.{qualified.split('.')[1]}"
            if not described[qualified][1]:
                continue
            built = {spec: f"{location}/{spec}" for spec in self._partitions(audit_table)}
            partitions[qualified] = served_partitions(
                previous,
                qualified,
                schemas[qualified],
                rebuild_from,
                built,
                sparse=qualified in sparse,
                appended=qualified in appended,
                whole=qualified in whole,
            )
        for qualified in carried:
            if previous is None or qualified not in previous.tables:
                raise PublishError(f"{qualified} is not published: it cannot be carried over")
            locations[qualified] = previous.tables[qualified]
            if qualified in previous.schemas:
                schemas[qualified] = previous.schemas[qualified]
            if qualified in previous.partitions:
                partitions[qualified] = previous.partitions[qualified]
        manifest = PublishManifest(
            layer=layer,
            run_id=run_id,
            published_at=datetime.now(UTC).isoformat(),
            tables=locations,
            gate=gate,
            schemas=schemas,
            partitions=partitions,
            rebuild_from=rebuild_from,
            inputs=inputs or {},
        )
        self._commit(manifest)
        return manifest

    def rollback(self, layer: str, to_run_id: str | None = None) -> PublishManifest:
        history = self.history(layer)
        if to_run_id is None:
            # The newest version other than the one served now (repeating a rollback does
            # not flip back to the version it replaced).
            earlier = [m for m in history if m.run_id != history[-1].run_id] if history else []
            if not earlier:
                raise PublishError(f"{layer} has no earlier published version to roll back to")
            target = earlier[-1]
        else:
            matches = [m for m in history if m.run_id == to_run_id]
            if not matches:
                known = ", ".join(m.run_id for m in history) or "none"
                raise PublishError(
                    f"no published {layer} version from run {to_run_id} (known: {known})"
                )
            target = matches[-1]
        for location in target.locations():
            if not Path(location.removeprefix("file:")).exists() and location.startswith(
                ("file:", "/")
            ):
                raise PublishError(f"version directory {location} is gone (garbage-collected?)")
        rolled = PublishManifest(
            layer=layer,
            run_id=target.run_id,
            published_at=datetime.now(UTC).isoformat(),
            tables=target.tables,
            gate={**target.gate, "rollback_of": history[-1].run_id},
            schemas=target.schemas,
            partitions=target.partitions,
            rebuild_from=None,  # arbitrary months changed: the next downstream build is full
            inputs=target.inputs,
        )
        self._commit(rolled)
        return rolled

    def history(self, layer: str) -> list[PublishManifest]:
        return publish_history(self.lake, layer)

    def recover(self, discard: str | None = None) -> list[PublishManifest]:
        """Finish promotions or rollbacks a killed run left halfway (call under the lock).
        `discard` names a layer whose unfinishable promotion an operator gives up on: the
        rollback that follows then re-points every table at a completed version."""
        finished = []
        for pending in sorted((self.lake.publish / PENDING).glob("*.json")):
            manifest = PublishManifest(**json.loads(pending.read_text()))
            if manifest.layer == discard:
                self.progress(f"{discard}: discarding run {manifest.run_id}'s unfinished promotion")
                pending.unlink()
                continue
            self.progress(
                f"{manifest.layer}: run {manifest.run_id} was interrupted while publishing; "
                "rolling its promotion forward"
            )
            try:
                self._commit(manifest)
            except MarketPulseError as exc:
                completed = [m.run_id for m in self.history(manifest.layer)]
                raise PublishError(
                    f"cannot finish run {manifest.run_id}'s interrupted promotion of "
                    f"{manifest.layer} ({exc}); fix the cause and build again, or restore a "
                    f"completed version with `marketpulse rollback {manifest.layer} --to "
                    f"{completed[-1] if completed else '<run id>'}` (pending: {pending})"
                ) from exc
            finished.append(manifest)
        return finished

    def _commit(self, manifest: PublishManifest) -> None:
        """Pending manifest first, then the table changes, then the manifest of record."""
        pending = manifest.write(self.lake.publish / PENDING, name=f"{manifest.layer}.json")
        self._apply(manifest)
        manifest.write(self.lake.publish / manifest.layer)
        pending.unlink()

    def _apply(self, manifest: PublishManifest) -> None:
        self.client.execute(f"create database if not exists {manifest.layer}")
        history = self.history(manifest.layer)
        served = history[-1].partitions if history else {}
        for qualified, location in manifest.tables.items():
            if qualified in manifest.partitions:
                self._apply_partitioned(manifest, qualified, served.get(qualified, {}))
                continue
            schema, table = qualified.split(".")
            wanted = manifest.schemas.get(qualified)
            if not self._exists(schema, table):
                self._create(qualified, location, wanted)
            elif wanted is None or self._describe(qualified)[0] == wanted:
                # The atomic step: one metastore update re-points the table.
                self.client.execute(f"alter table {qualified} set location {quote(location)}")
            else:
                # A schema change cannot be a single ALTER on a v1 parquet table.
                self.progress(f"publish: {qualified} changes schema; replacing its definition")
                self.client.execute(f"drop table {qualified}")
                self._create(qualified, location, wanted)
            self.client.execute(f"refresh table {qualified}")
            self.progress(f"published {qualified} -> {location}")

    def _apply_partitioned(
        self, manifest: PublishManifest, qualified: str, served: dict[str, str]
    ) -> None:
        """Re-point the partitions whose location changes since the version of record
        (`served`), add new months, drop months no longer built. Idempotent."""
        wanted = manifest.partitions[qualified]
        schema, table = qualified.split(".")
        columns = manifest.schemas[qualified]
        # Spark lists a partitioned table's partition column last; an empty table has no spec.
        partition_column = columns[-1][0]
        exists = self._exists(schema, table)
        if exists and self._describe(qualified)[0] != columns:
            self.progress(f"publish: {qualified} changes schema; replacing its definition")
            self.client.execute(f"drop table {qualified}")
            exists = False
        if not exists:
            # The root holds the version directories; every partition has its own location.
            root = manifest.tables[qualified].rsplit("/_v=", 1)[0]
            self._create(qualified, root, columns, partition_column)
        present = set(self._partitions(qualified))
        added = [spec for spec in wanted if spec not in present]
        moved = [spec for spec in wanted if spec in present and served.get(spec) != wanted[spec]]
        dropped = sorted(present - set(wanted))
        for start in range(0, len(added), 100):  # one metastore call per 100 new months
            clauses = " ".join(
                f"{_partition_clause(spec)} location {quote(wanted[spec])}"
                for spec in added[start : start + 100]
            )
            self.client.execute(f"alter table {qualified} add if not exists {clauses}")
        for spec in moved:  # each one an atomic metastore update
            self.client.execute(
                f"alter table {qualified} {_partition_clause(spec)} "
                f"set location {quote(wanted[spec])}"
            )
        for spec in dropped:
            self.client.execute(f"alter table {qualified} drop if exists {_partition_clause(spec)}")
        self.client.execute(f"refresh table {qualified}")
        self.progress(
            f"published {qualified}: {len(added)} months added, {len(moved)} re-pointed, "
            f"{len(dropped)} dropped, {len(wanted) - len(added) - len(moved)} kept"
        )

    def _create(
        self,
        qualified: str,
        location: str,
        columns: list[list[str]] | None,
        partition_column: str | None = None,
    ) -> None:
        # Manifests written before schemas were recorded: let Spark read the Parquet footer.
        ddl = f" ({', '.join(f'`{n}` {t}' for n, t in columns)})" if columns else ""
        partitioned = f" partitioned by ({partition_column})" if partition_column else ""
        self.client.execute(
            f"create table {qualified}{ddl} using parquet{partitioned} location {quote(location)}"
        )
