"""A child process with its output in log files, stopped by its own PID only (terminate, wait, kill)."""
import ctypes
import os
import signal
import subprocess
import time

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # safety net in the child before exec: SIGTERM when the test process dies without its teardown
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def tail(path, lines=40):
    """The last lines of a text file, or '' when it does not exist."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


class Process:
    """Runs argv with stdout/stderr into <log_dir>/<name>.out / .err. stop() signals only this PID.
    The child gets PR_SET_PDEATHSIG(SIGTERM): it is ended if the thread that started it dies, so start
    processes from the test's main thread (fixtures do)."""

    def __init__(self, name, argv, log_dir, env=None, cwd=None, drop_env_prefixes=()):
        """env: variables added to (a copy of) os.environ, after dropping those whose names start with
        one of drop_env_prefixes (so the caller's environment cannot change the child's behaviour)."""
        self.name = name
        self.drop_env_prefixes = tuple(drop_env_prefixes)
        self.argv = [str(a) for a in argv]
        self.env = env
        self.cwd = cwd
        self.stdout_path = os.path.join(str(log_dir), name + ".out")
        self.stderr_path = os.path.join(str(log_dir), name + ".err")
        self.popen = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        env = {k: v for k, v in os.environ.items()
               if not (self.drop_env_prefixes and k.startswith(self.drop_env_prefixes))}
        if self.env:
            env.update({k: str(v) for k, v in self.env.items()})
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.log_offsets = (out.tell(), err.tell())
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                          env=env, cwd=self.cwd, close_fds=True,
                                          preexec_fn=_die_with_parent)
        return self

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        return self.popen.poll() if self.popen else None

    def stop(self, timeout=5.0):
        """SIGTERM, wait up to timeout, then SIGKILL. Returns the exit code (None if never started)."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        return self.popen.returncode

    def output(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def errors(self):
        """stdout and stderr of this start (the logs are appended to at every start) together: where a server said
        why it stopped (Go servers write to stderr)."""
        text = ""
        for path, offset in zip((self.stdout_path, self.stderr_path), getattr(self, "log_offsets", (0, 0))):
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    text += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def describe(self, lines=30):
        """The command and the tails of both logs, for failure reports."""
        return ("--- %s (pid %s, rc %s): %s\n--- stdout tail (%s):\n%s\n--- stderr tail (%s):\n%s\n"
                % (self.name, self.pid, self.returncode(), " ".join(self.argv), self.stdout_path,
                   tail(self.stdout_path, lines), self.stderr_path, tail(self.stderr_path, lines)))


class ProcessExited(RuntimeError):
    """A process the rig waits for has exited (or cannot serve: a port was taken); wait_until stops polling at once."""


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate until it returns a true value (returned) or timeout seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ProcessExited:
            raise
        except Exception as exc:  # keep polling; report the last error on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s%s"
                               % (timeout, what, (": %r" % last_exc) if last_exc else ""))
        time.sleep(interval)
