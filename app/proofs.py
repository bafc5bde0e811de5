"""Sympy proofs in the background: one worker process, newest request first, with a timeout.

The page never waits for a proof longer than it chooses to (``wait(config, timeout)``);
a proof still running shows as such and the page polls for it. Results are kept per
configuration (the newest ``keep`` of them). A proof exceeding ``timeout_s`` has its
worker killed and restarted, and is reported as timed out. No streamlit here.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from app.proof_worker import read_message, write_message
from derivations.model import Verification
from derivations.topic import Config

TIMEOUT_S = 300.0


@dataclass(frozen=True)
class ProofStatus:
    state: Literal["done", "failed", "running", "queued", "unknown"]
    verification: Verification | None = None
    message: str = ""
    seconds: float = 0.0  # since the proof was requested


class ProofService:
    """Runs ``topic.verify(config)`` for each requested configuration in a worker process."""

    def __init__(self, root: str, timeout_s: float = TIMEOUT_S, keep: int = 256):
        self._root, self._timeout_s, self._keep = root, timeout_s, keep
        self._lock = threading.Condition()
        self._results: OrderedDict[Config, tuple[bool, object]] = OrderedDict()
        self._requested: dict[Config, float] = {}
        self._pending: list[Config] = []  # newest last: popped first
        self._in_flight: tuple[int, Config, float] | None = None
        self._process: subprocess.Popen | None = None
        self._next_id = 0
        atexit.register(self.close)
        with self._lock:
            try:  # start the worker now: importing sympy there overlaps with drawing the page here
                self._ensure_process()
            except OSError:
                self._process = None

    def submit(self, config: Config) -> None:
        with self._lock:
            if config in self._results or config in self._requested:
                return
            self._requested[config] = time.monotonic()
            self._pending.append(config)
            self._dispatch()

    def status(self, config: Config) -> ProofStatus:
        with self._lock:
            self._expire()
            if config in self._results:
                ok, payload = self._results[config]
                return ProofStatus("done", payload) if ok else ProofStatus("failed", message=str(payload))
            if config not in self._requested:
                return ProofStatus("unknown")
            seconds = time.monotonic() - self._requested[config]
            running = self._in_flight is not None and self._in_flight[1] == config
            return ProofStatus("running" if running else "queued", seconds=seconds)

    def wait(self, config: Config, timeout: float) -> ProofStatus:
        """Request the proof if needed and wait up to ``timeout`` seconds for it."""
        self.submit(config)
        deadline = time.monotonic() + timeout
        with self._lock:
            while config not in self._results and (left := deadline - time.monotonic()) > 0:
                until_expiry = (self._in_flight[2] + self._timeout_s - time.monotonic()
                                if self._in_flight is not None else left)
                self._lock.wait(max(0.0, min(left, until_expiry, 1.0)))
                self._expire()
        return self.status(config)

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    # -- internals; the lock is held by the caller --

    def _dispatch(self) -> None:
        self._expire()
        if self._in_flight is not None or not self._pending:
            return
        config = self._pending.pop()
        for _attempt in range(2):
            try:
                process = self._ensure_process()
                self._next_id += 1
                write_message(process.stdin, (self._next_id, config))
            except OSError:
                self._process = None  # broken pipe: start a fresh worker and try once more
                continue
            self._in_flight = (self._next_id, config, time.monotonic())
            return
        self._store(config, False, "the proof worker could not be started")
        self._dispatch()

    def _ensure_process(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            path = os.pathsep.join(filter(None, [self._root, os.environ.get("PYTHONPATH")]))
            self._process = subprocess.Popen([sys.executable, "-m", "app.proof_worker"], cwd=self._root,
                                             env={**os.environ, "PYTHONPATH": path},
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            threading.Thread(target=self._read_answers, args=(self._process,), daemon=True,
                             name="proof-answers").start()
        return self._process

    def _read_answers(self, process: subprocess.Popen) -> None:
        while (message := read_message(process.stdout)) is not None:
            job_id, ok, payload = message
            with self._lock:
                if self._in_flight is not None and self._in_flight[0] == job_id:
                    self._store(self._in_flight[1], ok, payload)
                    self._in_flight = None
                    self._dispatch()
        with self._lock:  # the worker stopped; if it was ours, the proof in flight is lost
            if self._process is process:
                self._process = None
                if self._in_flight is not None:
                    self._store(self._in_flight[1], False, "the proof worker stopped unexpectedly")
                    self._in_flight = None
                self._dispatch()

    def _expire(self) -> None:
        """Kill a worker whose proof has run longer than the timeout."""
        if self._in_flight is None or time.monotonic() - self._in_flight[2] < self._timeout_s:
            return
        config = self._in_flight[1]
        self._in_flight = None
        self._store(config, False, f"the proof did not finish within {self._timeout_s:.0f} s")
        process, self._process = self._process, None
        if process is not None:
            process.kill()
        self._dispatch()

    def _store(self, config: Config, ok: bool, payload: object) -> None:
        self._results[config] = (ok, payload)
        self._requested.pop(config, None)
        while len(self._results) > self._keep:
            self._results.popitem(last=False)
        self._lock.notify_all()
