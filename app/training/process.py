"""A ``grace`` command in a child process (QProcess): protocol events from stdout, log lines from stderr, and an
end report that tells a clean finish from a crash.

Cancel writes ``stop`` to the child's stdin (the protocol's clean cancel: it finishes the batch and saves
``last.pt``). :meth:`WorkerProcess.shutdown` is for closing the app: cancel, wait, then terminate and kill, so no
child outlives the window.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from grace_core.training.protocol import Event, EventDecoder, LogLine
from grace_core.training.worker import worker_command

log = logging.getLogger(__name__)

TAIL_LINES = 40
# terminal escape sequences: OSC (window titles, links) first, then CSI (colours, cursor, erase), then 2-byte ones
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # other control characters (tab, CR, LF stay)


def clean_terminal_text(line: str) -> str:
    """One line of terminal output as plain text: colours, cursor moves, erases and titles removed, and of a line
    rewritten with carriage returns (progress bars) only its last state that is not blank."""
    states = (_CONTROLS.sub("", _ESCAPES.sub("", part)).rstrip() for part in line.split("\r"))
    return next((state for state in reversed(list(states)) if state), "")


@dataclass(frozen=True)
class ProcessEnd:
    """How a worker ended. ``status`` comes from its ``done`` event, or is ``crashed`` when none came."""

    status: str  # completed | cancelled | failed | crashed
    exit_code: int | None
    message: str  # one line for the user
    done: dict = field(default_factory=dict)
    stderr_tail: tuple[str, ...] = ()

    @property
    def crashed(self) -> bool:
        return self.status == "crashed"


class LineSplitter:
    """Incremental stderr text → complete lines of plain text (see :func:`clean_terminal_text`)."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + self._utf8.decode(data)
        *lines, self._partial = text.split("\n")
        return [shown for line in lines if (shown := clean_terminal_text(line))]

    def close(self) -> list[str]:
        rest, self._partial = self._partial + self._utf8.decode(b"", final=True), ""
        shown = clean_terminal_text(rest)
        return [shown] if shown else []


class WorkerProcess(QObject):
    """One ``grace <command>`` child. Signals arrive on the GUI thread."""

    event = Signal(object)  # grace_core.training.protocol.Event
    log_line = Signal(str)
    ended = Signal(object)  # ProcessEnd

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._decoder = EventDecoder()
        self._stderr = LineSplitter()
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._done: dict | None = None
        self._errors: list[str] = []
        self._ended = False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def pid(self) -> int | None:
        return int(self._process.processId()) if self.running and self._process is not None else None

    def start(self, cli_args: Sequence[str], env: dict[str, str] | None = None) -> list[str]:
        """Start ``grace <cli_args>``; returns the full command line (for the log)."""
        if self.running:
            raise RuntimeError("a worker process is already running")
        command = worker_command(list(cli_args))
        self._decoder, self._stderr, self._tail = EventDecoder(), LineSplitter(), deque(maxlen=TAIL_LINES)
        self._done, self._errors, self._ended = None, [], False
        if self._process is not None:
            self._process.deleteLater()  # the previous run's, finished
        process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        for key, value in (env or {}).items():
            environment.insert(key, value)
        process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        process.start(command[0], command[1:])
        return command

    def cancel(self) -> None:
        """Ask for a clean stop after the current batch (the child saves ``last.pt`` and reports ``cancelled``)."""
        if self.running and self._process is not None:
            self._process.write(b"stop\n")

    def kill(self) -> None:
        if self.running and self._process is not None:
            self._process.kill()

    def shutdown(self, grace_ms: int = 20000) -> bool:
        """Stop the child for good, blocking: cancel, wait ``grace_ms``, terminate, kill. True if it was running."""
        process = self._process
        if process is None or not self.running:
            return False
        self.cancel()
        if not process.waitForFinished(grace_ms):
            log.warning("worker %s did not stop after 'stop'; terminating", self.pid())
            process.terminate()
            if not process.waitForFinished(5000):
                process.kill()
                process.waitForFinished(5000)
        return True

    # -- child output -------------------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        if self._process is not None:
            self._dispatch(self._decoder.feed(bytes(self._process.readAllStandardOutput().data())))

    def _read_stderr(self) -> None:
        if self._process is not None:
            self._log(self._stderr.feed(bytes(self._process.readAllStandardError().data())))

    def _dispatch(self, items: list) -> None:
        for item in items:
            if isinstance(item, LogLine):
                self._log([item.text])
            elif isinstance(item, Event):
                if item.type == "done":
                    self._done = dict(item.data)
                elif item.type == "error":
                    self._errors.append(str(item.get("message", "")))
                self.event.emit(item)

    def _log(self, lines: list[str]) -> None:
        for line in filter(None, map(clean_terminal_text, lines)):  # stdout's non-event lines are raw too
            self._tail.append(line)
            self.log_line.emit(line)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            self._finish(None, f"the worker could not start: {self._process.errorString()}")

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        self._dispatch(self._decoder.close())
        self._log(self._stderr.close())
        if exit_status == QProcess.ExitStatus.CrashExit:
            self._finish(None, "the worker process was killed or crashed")
        else:
            self._finish(exit_code, f"the worker process exited with code {exit_code}")

    def _finish(self, exit_code: int | None, how: str) -> None:
        if self._ended:
            return
        self._ended = True
        tail = tuple(self._tail)
        if self._done is not None:
            status = str(self._done.get("status") or "completed")
            message = f"{status}" + (f": {self._errors[-1]}" if status == "failed" and self._errors else "")
            end = ProcessEnd(status, exit_code, message, self._done, tail)
        else:
            last = self._errors[-1] if self._errors else next((line for line in reversed(tail) if line), "")
            end = ProcessEnd("crashed", exit_code, how + (f"; last output: {last}" if last else ""), {}, tail)
        self.ended.emit(end)
