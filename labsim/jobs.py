"""Jobs: a configuration becomes a run, in a folder or in memory, one or many at once.

Every labsim command that runs the model goes through here:

* ``to_config`` (``labsim.hydra_app``, re-exported by ``labsim.api``; imported
  here only where a job needs it, so reading a status loads no Hydra):
  any configuration (a LabsimConfig, Hydra's DictConfig, a dict) becomes one
  that may run: every key known, every value in its range, the shipped
  posterior's draw applied (and checked with the rules again), and a run that
  fits in memory. Once: a configuration it returned is not checked again.
* ``Status``: what ``status.json`` says, the last file of every run folder.
  ``write_status`` is its one writer, ``read_status`` its one reader, and
  ``done`` the one rule for "already done": a finished run (status ``ok``
  and ``kpis.json``) of the very same settings (``settings_key``: a digest
  of the checked configuration, what a run writes and shows left out). A
  sweep or a design that is run again skips exactly those jobs.
* ``run_into``: one job into a staging folder (``labsim.rundir`` commits it
  whole or not at all): the results, its page, its configuration, then its
  status. ``labsim`` and ``labsim -m`` (each of Hydra's jobs) and the
  sensitivity analysis's runs use it; ``labsim.run`` (``labsim.api``) is the
  same job without a folder, for callers that need only the results in memory
  (the calibration's particles, the classroom).
* ``Pool``: local worker processes for the commands that run many jobs
  (``labsim-sensitivity``, ``labsim-calibrate``'s local particles, the
  classroom's helper). Their number is capped by the cores and by the memory
  a run needs (``labsim.resources.parallel_slots``); they are spawned (a fork would copy the
  parent's threads), ignore Ctrl-C (the parent answers it), stop when told
  and end by themselves when the parent is gone, however it went. A sweep of
  ``labsim -m`` runs on Hydra's launchers instead (joblib on this machine,
  submitit on a SLURM cluster: Hydra accepts a launcher only from its own
  plugin package), with the same cap on its ``n_jobs`` and the same
  watch on the parent in every job (``watch_parent``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from labsim.config import LabsimConfig, settings_key
from labsim.errors import shown
from labsim.files import CONFIG, KPIS, STATUS, atomic_write_text, json_text, remove_stale

__all__ = ["Status", "read_status", "write_status", "finished", "done", "settings_key", "run_into", "JobFailed",
           "Pool", "watch_parent", "PARENT_ENV"]


# --- status.json: one writer, one reader, one rule for "already done" -----------------------

STATES = ("ok", "failed")


@dataclass(frozen=True)
class Status:
    """What a run folder's ``status.json`` says.

    ``state``: ``ok`` or ``failed`` as written; ``missing`` when there is no
    status.json (the run was interrupted or never started); ``unreadable``
    when there is one labsim did not write whole (``error`` says what is
    wrong with it)."""

    state: str
    error: str | None = None
    scenario: str | None = None
    seed: int | None = None
    overrides: tuple[str, ...] = ()
    settings: str | None = None  # settings_key of the configuration run
    seconds: float | None = None
    labsim_version: str | None = None
    git_commit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # a command's own fields (a design's point)

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def payload(self) -> dict[str, Any]:
        return {"status": self.state, "error": self.error, "scenario": self.scenario, "seed": self.seed,
                "overrides": list(self.overrides), "settings": self.settings, "seconds": self.seconds,
                "labsim_version": self.labsim_version, "git_commit": self.git_commit, **self.extra}


_FIELDS = {"status", "error", "scenario", "seed", "overrides", "settings", "seconds", "labsim_version",
           "git_commit"}


def write_status(folder: str | Path, status: Status) -> None:
    """Write ``status.json`` into ``folder`` (atomically): the last file of a run."""
    if status.state not in STATES:
        raise ValueError(f"a run's status is one of {STATES}, not {status.state!r}")
    atomic_write_text(Path(folder) / STATUS, json_text(status.payload()))


def _text(value: Any) -> str | None:
    return None if value is None else str(value).splitlines()[0] if str(value) else ""


def read_status(folder: str | Path) -> Status:
    """What ``folder``'s ``status.json`` says (see Status); never raises."""
    path = Path(folder) / STATUS
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Status("missing", f"no {STATUS}: the run was interrupted or never started")
    except OSError as exc:
        return Status("unreadable", f"{STATUS} cannot be read ({exc.strerror or type(exc).__name__})")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Status("unreadable", f"{STATUS} is not JSON (cut short, or not labsim's)")
    if not isinstance(value, dict):
        kind = "a list" if isinstance(value, list) else f"{shown(value)}"
        return Status("unreadable", f"{STATUS} holds {kind}, not a JSON object")
    state = value.get("status")
    if state not in STATES:
        return Status("unreadable", f"{STATUS} says status {shown(state)} (labsim writes ok or failed)")
    seed = value.get("seed")
    seconds = value.get("seconds")
    overrides = value.get("overrides")
    return Status(
        state=state, error=_text(value.get("error")), scenario=_text(value.get("scenario")),
        seed=int(seed) if isinstance(seed, (int, float)) and not isinstance(seed, bool) and seed == seed
        and abs(seed) < 2**63 else None,
        overrides=tuple(str(o) for o in overrides) if isinstance(overrides, list) else (),
        settings=_text(value.get("settings")),
        seconds=float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None,
        labsim_version=_text(value.get("labsim_version")), git_commit=_text(value.get("git_commit")),
        extra={k: v for k, v in value.items() if k not in _FIELDS})


def finished(folder: str | Path) -> bool:
    """Whether ``folder`` holds a finished run: ``status.json`` says ok and ``kpis.json`` is there."""
    return read_status(folder).ok and (Path(folder) / KPIS).is_file()


def done(folder: str | Path, config: LabsimConfig) -> bool:
    """The one rule for "already done": ``folder`` holds a finished run of exactly ``config``'s
    settings (checked by ``to_config``), whatever wrote it."""
    from labsim.hydra_app import to_config

    status = read_status(folder)
    return (status.ok and status.settings == settings_key(to_config(config))
            and (Path(folder) / KPIS).is_file())


# --- one job into a folder ----------------------------------------------------------------

class JobFailed(Exception):
    """A run failed (a bug or a numerical failure, not the configuration): one line."""


def run_into(staging: Path, config: LabsimConfig, *, scenario: str | None, overrides: Iterable[str],
             page: Callable[[Any], str | None] | None = None, resolved: str | None = None,
             progress: Callable[[float], None] | None = None, extra: dict[str, Any] | None = None,
             keep_going: bool = True, run: Callable[..., Any] | None = None) -> tuple[Status, dict[str, Any]]:
    """Run ``config`` (from ``to_config``) into ``staging``: the run's files, its page (``page(results)``,
    None for none), ``config_resolved.yaml`` (``resolved``, the text Hydra composed) and, last,
    ``status.json``. Returns the status and the run's KPIs (with its ``meta``).

    A failed run is a ``failed`` status when ``keep_going`` (a sweep's or a design's job: the others go
    on), else JobFailed (a single run). An interrupt propagates: the caller discards the folder.
    ``run(config, progress)`` simulates (``labsim.run`` unless a caller's stand-in).
    """
    from labsim.api import git_commit
    from labsim.api import run as simulate

    run = simulate if run is None else run

    overrides = tuple(str(o) for o in overrides)
    base = dict(scenario=scenario, seed=config.seed, overrides=overrides, settings=settings_key(config),
                extra=dict(extra or {}))
    started = time.perf_counter()
    try:
        results = run(config, progress)
        results.meta.update({"scenario": scenario, "git_commit": git_commit(), "overrides": list(overrides),
                             **(extra or {})})
        results.write(staging, page(results) if page is not None else None)
    except Exception as exc:  # a bug or a numerical failure, not a user error
        line = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if not keep_going:
            raise JobFailed(f"the run failed: {line}") from None
        status = Status("failed", line, seconds=round(time.perf_counter() - started, 3), **base)
        write_status(staging, status)
        return status, {}
    if resolved is not None:
        atomic_write_text(staging / CONFIG, resolved)
    status = Status("ok", None, seconds=round(time.perf_counter() - started, 3),
                    labsim_version=results.meta.get("labsim_version"), git_commit=results.meta.get("git_commit"),
                    **base)
    write_status(staging, status)
    return status, {**results.kpis, "meta": results.meta}


# --- many jobs at once ----------------------------------------------------------------------

PARENT_ENV = "LABSIM_PARENT_PID"  # set by a command for the worker processes it starts
_WATCHING: list[Callable[[], None]] = []  # what to clean when the parent is gone (a job's staging folder)


def watch_parent(cleanup: Callable[[], None] | None = None) -> None:
    """In a worker process: when the labsim process that started it (``$LABSIM_PARENT_PID``, its
    parent) is gone, run ``cleanup`` and exit, so no orphan goes on writing. Nothing to watch when
    this process is not that process's child (the basic launcher, a cluster's job)."""
    parent = os.environ.get(PARENT_ENV)
    if cleanup is not None:
        _WATCHING.append(cleanup)
    if getattr(watch_parent, "started", False) or not parent or not parent.isdigit() \
            or os.getppid() != int(parent):
        return
    watch_parent.started = True  # type: ignore[attr-defined]

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.25)
        for clean in list(_WATCHING):
            try:
                clean()
            except Exception:  # noqa: BLE001 - exiting regardless
                pass
        os._exit(143)

    threading.Thread(target=watch, name="labsim-parent-watch", daemon=True).start()


_BUSY: list[bool] = []  # in a pool worker: a job is under way (its folder to discard on a signal)


def _worker_signal(signum: int, frame: Any) -> None:
    """SIGTERM or SIGHUP in a pool worker: a job under way stops between its weeks (Interrupted, so its
    folder is discarded); an idle worker just ends, quietly."""
    if _BUSY:
        from labsim.errors import Interrupted

        raise Interrupted(signum)
    os._exit(128 + signum)


def _worker_start(initializer: Callable[[], None] | None) -> None:
    """A pool worker: Ctrl-C reaches the terminal's whole group and the parent answers it (it stops the
    workers); SIGTERM stops it (``_worker_signal``); the parent's death ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_signal)
    signal.signal(signal.SIGHUP, _worker_signal)
    watch_parent()
    if initializer is not None:
        initializer()


def busy(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn(*args)`` in a pool worker as a job: a signal then stops it through its ``finally``
    and ``except`` clauses rather than ending the process at once."""
    _BUSY.append(True)
    try:
        return fn(*args)
    finally:
        _BUSY.pop()


class Pool:
    """Local worker processes for many jobs; a context manager.

    ``submit`` as an Executor's; ``executor`` for a library that takes one (pyabc). Leaving the block
    normally waits for the jobs; leaving it on an exception (an interrupt included) stops the workers
    at once (SIGTERM, then SIGKILL after ``grace`` seconds) and waits until they are gone, then removes
    the temporaries they left in ``folders``.
    """

    def __init__(self, workers: int, initializer: Callable[[], None] | None = None,
                 folders: Iterable[Path] = (), grace: float = 5.0) -> None:
        os.environ[PARENT_ENV] = str(os.getpid())
        self.workers = max(1, int(workers))
        self.folders = [Path(f) for f in folders]
        self.grace = grace
        self.executor = ProcessPoolExecutor(max_workers=self.workers,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_start, initargs=(initializer,))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` in a worker as a job (``busy``)."""
        return self.executor.submit(busy, fn, *args)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None:
            self.executor.shutdown(wait=True)
        else:
            self.stop()

    def processes(self) -> list[Any]:
        return list((getattr(self.executor, "_processes", None) or {}).values())

    def stop(self) -> None:
        """Stop every worker now and wait until each is gone, and the executor's manager thread with
        them (left running, it is woken at interpreter exit through a pipe the broken pool may
        already have closed, and Python prints that error as the program ends); remove what they
        left half-written."""
        workers = self.processes()
        manager = getattr(self.executor, "_executor_manager_thread", None)
        self.executor.shutdown(wait=False, cancel_futures=True)
        for proc in workers:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + self.grace
        for proc in workers:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(5.0)
        if manager is not None:
            manager.join(max(self.grace, 1.0))  # it notices the workers are gone and ends
        for folder in self.folders:
            remove_stale(folder)


