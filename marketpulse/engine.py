"""The local SQL engine: Spark's HiveThriftServer2 from the pyspark install, on 127.0.0.1.

One engine serves dbt, the gates and the analysts. This module starts, stops and reports it,
and gives Python a small client with bounded retries.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketpulse.config import Settings
from marketpulse.errors import EngineError, EngineUnavailable, PortInUse, engine_error_message

JAVA_HINT = (
    "Spark 3.5 needs a Java 17 runtime: install it (Debian/Ubuntu: "
    "`sudo apt-get install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) "
    "or point JAVA_HOME at one"
)
START_TIMEOUT_S = 180
METADATA_CACHE_TTL_S = 2
SUPPORTED_JAVA = (17,)


@dataclass(frozen=True)
class EngineStatus:
    running: bool
    pid: int | None = None
    host: str = ""
    port: int | None = None
    lake: str = ""
    started_at: float | None = None
    log: str = ""
    master: str = "local[*]"
    master_ui: str = ""
    workers: int = 0

    def describe(self) -> str:
        if not self.running:
            return "engine: stopped"
        uptime = int(time.time() - (self.started_at or time.time()))
        cluster = f"  master={self.master} ({self.workers} workers)" if self.workers else ""
        return (
            f"engine: running  pid={self.pid}  thrift={self.host}:{self.port}{cluster}  "
            f"lake={self.lake}  uptime={uptime // 60}m{uptime % 60:02d}s  log={self.log}"
        )


def spark_home() -> Path:
    import pyspark  # local import: keeps `marketpulse --help` instant

    return Path(pyspark.__file__).resolve().parent


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise EngineError(f"no `java` found. {JAVA_HINT}")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    major = int(match.group(2)) if major == 1 and match and match.group(2) else major
    if major not in SUPPORTED_JAVA:
        raise EngineError(f"found Java {major or 'of unknown version'} at {java}. {JAVA_HINT}")
    return java


def port_is_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int, marker: bytes = b"HiveThriftServer2") -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    # A recycled pid belongs to someone else: only our Spark process counts.
    return not cmdline.exists() or marker in cmdline.read_bytes()


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Engine:
    """Start, stop and report the Thrift server that owns a lake."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lake = settings.lake
        self.log_path = self.lake.logs / "engine.log"

    def status(self) -> EngineStatus:
        state = self._read_state()
        if not state or not _alive(int(state["pid"])):
            return EngineStatus(running=False)
        return EngineStatus(
            running=True,
            pid=int(state["pid"]),
            host=state["host"],
            port=int(state["port"]),
            lake=state["lake"],
            started_at=float(state["started_at"]),
            log=state["log"],
            master=state.get("master", "local[*]"),
            master_ui=state.get("master_ui", ""),
            workers=len(state.get("workers", [])),
        )

    def start(self, progress: Callable[[str], None] = print) -> EngineStatus:
        current = self.status()
        if current.running:
            # An explicit cluster size must match; 0 (the default) accepts what runs, e.g. a
            # `marketpulse run` after `marketpulse engine start --cluster N`.
            wanted = self.settings.cluster_workers
            if wanted and current.workers != wanted:
                mode = f"{current.workers} workers" if current.workers else "local mode"
                raise EngineError(
                    f"this lake's engine already runs in {mode}; stop it first "
                    "(`marketpulse engine stop`) to change that"
                )
            if current.port != self.settings.port:
                raise EngineError(
                    f"this lake's engine already runs on port {current.port}; stop it first "
                    f"(`marketpulse engine stop`) to move it to {self.settings.port}"
                )
            wait_until_ready(self.settings, timeout_s=START_TIMEOUT_S)
            return current
        if port_is_open(self.settings.host, self.settings.port):
            raise PortInUse(self.settings.host, self.settings.port)
        java = java_executable()
        self._stop_cluster(self._read_state() or {})  # a cluster left behind by a dead server
        for path in (self.lake.logs, self.lake.warehouse, self.lake.tables, self.lake.raw):
            path.mkdir(parents=True, exist_ok=True)

        cluster = self._start_cluster(java, progress) if self.settings.cluster_workers else {}
        progress(
            f"starting Spark Thrift server on {self.settings.host}:{self.settings.port} "
            f"(lake {self.lake.root}) ..."
        )
        log = self.log_path.open("ab")
        proc = subprocess.Popen(
            self._command(cluster.get("master", "local[*]")),
            cwd=self.lake.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(java),
            start_new_session=True,
        )
        state = {
            "pid": proc.pid,
            "host": self.settings.host,
            "port": self.settings.port,
            "lake": str(self.lake.root),
            "started_at": time.time(),
            "log": str(self.log_path),
            **cluster,
        }
        self.lake.engine_pid.write_text(json.dumps(state))
        try:
            wait_until_ready(
                self.settings, timeout_s=START_TIMEOUT_S, is_alive=lambda: proc.poll() is None
            )
        except EngineError as exc:
            self.stop(progress=lambda _msg: None)
            raise EngineError(
                f"{exc}\n--- tail of {self.log_path} ---\n{_tail(self.log_path)}"
            ) from exc
        progress(f"engine ready (pid {proc.pid})")
        return self.status()

    def stop(self, progress: Callable[[str], None] = print) -> None:
        state = self._read_state()
        if not state:
            progress("engine: not running (no pid file)")
            return
        pid = int(state["pid"])
        if _alive(pid):
            progress(f"stopping engine pid {pid} ...")
            self._signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid):
                self._signal(pid, signal.SIGKILL)
        self._stop_cluster(state)
        self.lake.engine_pid.unlink(missing_ok=True)
        progress("engine stopped")

    # --- scale-out: a Spark standalone cluster on loopback ---------------------------------
    def _start_cluster(self, java: str, progress: Callable[[str], None]) -> dict[str, Any]:
        """A master and N workers from the pyspark install, each in its own process; the
        Thrift server then runs its executors on them (EMR: YARN does this part)."""
        workers = self.settings.cluster_workers
        port, ui_port = free_port(), free_port()
        master = f"spark://127.0.0.1:{port}"
        progress(f"starting a Spark standalone master at {master} with {workers} workers ...")
        daemons = [
            self._daemon(
                java,
                "master",
                [
                    "org.apache.spark.deploy.master.Master",
                    *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)),
                ],
            )
        ]
        memory = os.environ.get("MARKETPULSE_WORKER_MEMORY", "2g")
        for number in range(workers):
            work_dir = self.lake.root / "cluster" / f"worker-{number}"
            work_dir.mkdir(parents=True, exist_ok=True)
            daemons.append(
                self._daemon(
                    java,
                    f"worker-{number}",
                    [
                        "org.apache.spark.deploy.worker.Worker",
                        *("--host", "127.0.0.1", "--cores", "1", "--memory", memory),
                        *("--webui-port", str(free_port()), "--work-dir", str(work_dir), master),
                    ],
                )
            )
        state = {
            "master": master,
            "master_ui": f"http://127.0.0.1:{ui_port}",
            "master_pid": [daemons[0]],
            "workers": daemons[1:],
        }
        try:
            self._wait_for_workers(ui_port, workers)
        except EngineError:
            for pid in daemons:
                self._stop_daemon(pid)
            raise
        return state

    def _daemon(self, java: str, name: str, args: list[str]) -> int:
        log = (self.lake.logs / f"cluster-{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *args],
            cwd=self.lake.root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(java),
            start_new_session=True,
        )
        return proc.pid

    def _wait_for_workers(self, ui_port: int, expected: int) -> None:
        import urllib.request

        deadline = time.monotonic() + START_TIMEOUT_S
        alive = 0
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                url = f"http://127.0.0.1:{ui_port}/json/"
                with urllib.request.urlopen(url, timeout=5) as response:
                    alive = int(json.load(response).get("aliveworkers", 0))
                if alive >= expected:
                    return
            time.sleep(1)
        raise EngineError(
            f"only {alive} of {expected} Spark workers registered within {START_TIMEOUT_S}s; "
            f"see {self.lake.logs}/cluster-*.log"
        )

    def _stop_cluster(self, state: dict[str, Any]) -> None:
        for pid in [*state.get("workers", []), *state.get("master_pid", [])]:
            self._stop_daemon(pid)

    def _stop_daemon(self, pid: int) -> None:
        if _alive(pid, marker=b"org.apache.spark.deploy"):
            self._signal(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while _alive(pid, marker=b"org.apache.spark.deploy") and time.monotonic() < deadline:
                time.sleep(0.2)
            if _alive(pid, marker=b"org.apache.spark.deploy"):
                self._signal(pid, signal.SIGKILL)

    @staticmethod
    def _signal(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)  # spark-submit's JVM runs in the session we created

    def _read_state(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.lake.engine_pid.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _env(self, java: str) -> dict[str, str]:
        home = spark_home()
        return {
            **os.environ,
            "SPARK_HOME": str(home),
            "JAVA_HOME": str(Path(java).resolve().parent.parent),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.lake.logs),
        }

    def _command(self, master: str) -> list[str]:
        lake = self.lake
        memory = os.environ.get("MARKETPULSE_DRIVER_MEMORY", "4g")
        confs = {
            "spark.sql.warehouse.dir": str(lake.warehouse),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={lake.metastore};create=true"
            ),
            # Spark's static default deletes partitions absent from the new data.
            "spark.sql.sources.partitionOverwriteMode": "dynamic",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.host": "127.0.0.1",
            "spark.sql.shuffle.partitions": "8",
            "spark.sql.session.timeZone": "UTC",
            # Each Thrift session caches resolved tables forever by default, so a reader that
            # queried a table before a promotion would keep reading the old version. A short
            # TTL makes every session see a promotion within seconds (versions are immutable,
            # so a cached reader still reads a complete, earlier version meanwhile).
            "spark.sql.metadataCacheTTLSeconds": str(METADATA_CACHE_TTL_S),
            "spark.ui.showConsoleProgress": "false",
            # The UI's REST API is how bench/ counts jobs per gate; keep enough of them.
            "spark.ui.retainedJobs": "20000",
        }
        if master.startswith("spark://"):  # one single-core executor per worker
            confs["spark.executor.cores"] = "1"
            confs["spark.executor.memory"] = os.environ.get("MARKETPULSE_WORKER_MEMORY", "2g")
        args = [
            str(spark_home() / "bin" / "spark-submit"),
            "--class",
            "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
            "--master",
            master,
            "--name",
            "marketpulse-engine",
            "--driver-memory",
            memory,
            "--driver-java-options",
            f"-Dderby.system.home={lake.logs}",
        ]
        for key, value in confs.items():
            args += ["--conf", f"{key}={value}"]
        args += [
            "--hiveconf",
            f"hive.server2.thrift.port={self.settings.port}",
            "--hiveconf",
            f"hive.server2.thrift.bind.host={self.settings.host}",
            # HiveServer2 deletes its operation-log root when it stops; the default root
            # (/tmp/<user>/operation_logs) is shared, so stopping one lake's engine would
            # pull the files from under every other engine on the machine.
            "--hiveconf",
            f"hive.server2.logging.operation.log.location={lake.logs / 'operation_logs'}",
            "spark-internal",
        ]
        return args


def quote(value: str) -> str:
    """A Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connect(settings: Settings) -> Any:
    from pyhive import hive  # heavy import kept local

    try:
        return hive.connect(host=settings.host, port=settings.port, username=settings.user)
    except Exception as exc:  # thrift raises a zoo of transport errors
        raise EngineUnavailable(
            f"cannot reach the engine at {settings.host}:{settings.port} ({exc}); "
            f"start it with `marketpulse engine start`"
        ) from exc


def wait_until_ready(
    settings: Settings, timeout_s: float, is_alive: Callable[[], bool] = lambda: True
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_alive():
            raise EngineError("the engine process exited during start-up")
        if port_is_open(settings.host, settings.port):
            try:
                EngineClient(settings, retries=0).query("select 1")
                return
            except EngineError:
                pass
        time.sleep(1)
    raise EngineError(f"the engine did not answer `select 1` within {timeout_s:.0f}s")


class EngineClient:
    """SQL over Thrift with bounded retries on connection failures."""

    def __init__(self, settings: Settings, retries: int = 3, backoff_s: float = 1.0) -> None:
        self.settings = settings
        self.retries = retries
        self.backoff_s = backoff_s
        self._conn: Any = None

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self._run(sql, fetch=True)

    def execute(self, sql: str) -> None:
        self._run(sql, fetch=False)

    def execute_all(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.execute(statement)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _run(self, sql: str, fetch: bool) -> list[tuple[Any, ...]]:
        from pyhive.exc import OperationalError
        from thrift.transport.TTransport import TTransportException

        for attempt in range(self.retries + 1):
            try:
                if self._conn is None:
                    self._conn = connect(self.settings)
                cursor = self._conn.cursor()
                cursor.execute(sql)
                return list(cursor.fetchall()) if fetch else []
            except (EngineUnavailable, TTransportException, ConnectionError) as exc:
                self._conn = None
                if attempt == self.retries:
                    raise EngineUnavailable(
                        f"engine at {self.settings.host}:{self.settings.port} failed after "
                        f"{attempt + 1} attempt(s): {exc}"
                    ) from exc
                time.sleep(self.backoff_s * 2**attempt)
            except OperationalError as exc:
                raise EngineError(
                    f"query failed: {engine_error_message(str(exc))}\n  sql: {sql[:300]}"
                ) from exc
        raise AssertionError("unreachable")
