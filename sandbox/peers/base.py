"""Base classes for sandbox peers.

A peer is one service on 127.0.0.1: it is started as a process in its own
session (so that stopping it kills its whole process group), it waits until it
answers, and it contributes variables (and hosts) to the generated inventory.

Adding a peer: subclass :class:`ProcessPeer`, implement ``command()`` (and
``prepare()``/``inventory()`` when needed), and list the class in
``sandbox/peers/__init__.py``.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import ssl


class PeerError(RuntimeError):
    """A peer could not be prepared or started; the message names the peer and why."""

    def __init__(self, peer, reason):
        super().__init__("sandbox peer '%s' did not start: %s" % (peer, reason))
        self.peer = peer
        self.reason = reason


def free_port(host="127.0.0.1"):
    """Return a TCP port that is free on host right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url, timeout=2.0):
    """True when url answers any HTTP status (the server is up)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tail(path, lines=15):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def kill_group(pid, grace=5.0):
    """Terminate the process group led by pid and every descendant (including ones
    that started a session of their own, like sshd's per-connection children);
    SIGKILL after grace seconds."""
    import psutil

    try:
        leader = psutil.Process(pid)
        procs = [leader] + leader.children(recursive=True)
    except psutil.NoSuchProcess:
        procs = []
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        pgid = None
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if pgid is not None:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        _gone, procs = psutil.wait_procs(procs, timeout=grace if sig == signal.SIGTERM else 2.0)
        try:
            os.waitpid(pid, os.WNOHANG)  # reap our own child if it is one
        except ChildProcessError:
            pass
        if not procs:
            return


def remove_paths(paths):
    for path in paths:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)


class Context(object):
    """What a peer knows about the sandbox it is part of."""

    def __init__(self, state_dir, repo_root, python=None):
        self.state_dir = os.path.abspath(state_dir)
        self.repo_root = os.path.abspath(repo_root)
        self.python = python or sys.executable
        self.log_dir = os.path.join(self.state_dir, "logs")
        self.cache_dir = os.path.join(self.state_dir, "cache")
        self.peers = {}  # name -> started peer, so a peer can read another's inventory

    def workdir(self, name):
        path = os.path.join(self.state_dir, "peers", name)
        os.makedirs(path, exist_ok=True)
        return path


class Peer(object):
    """One sandbox service. Subclasses set ``name`` and implement the hooks."""

    name = "peer"
    #: names of peers that must be started first (their inventory is readable in ctx.peers)
    needs = ()
    #: seconds to wait for readiness
    start_timeout = 60.0

    def __init__(self, ctx):
        self.ctx = ctx
        self.port = None
        self.pids = []

    # hooks -------------------------------------------------------------
    def prepare(self):
        """Build or set up what start() needs; raise PeerError with the reason."""

    def start(self):
        raise NotImplementedError

    def ready(self):
        """True once the peer answers."""
        return port_open(self.port)

    def inventory(self):
        """Variables for ``all.vars`` of the generated inventory."""
        return {}

    def hosts(self):
        """{group: {host: hostvars}} added to the inventory."""
        return {}

    def after_start(self):
        """Runs once ready (create buckets, seed data...)."""

    # machinery ---------------------------------------------------------
    def wait_ready(self, proc=None, log=None):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise PeerError(self.name, "process exited with code %s; last log lines:\n%s"
                                % (proc.returncode, tail(log)))
            if self.ready():
                return
            time.sleep(0.1)
        raise PeerError(self.name, "no answer on 127.0.0.1:%s after %ss; last log lines:\n%s"
                        % (self.port, self.start_timeout, tail(log)))

    def cleanup_paths(self):
        """Paths outside the state dir that stopping the peer removes."""
        return []

    def stop(self):
        for pid in self.pids:
            kill_group(pid)
        self.pids = []
        remove_paths(self.cleanup_paths())

    def state(self):
        return {"name": self.name, "port": self.port, "pids": list(self.pids),
                "cleanup": self.cleanup_paths()}


class ProcessPeer(Peer):
    """A peer that is one long-running command."""

    def command(self):
        """argv of the service."""
        raise NotImplementedError

    def env(self):
        return None

    def start(self):
        if self.port is None:
            self.port = free_port()
        os.makedirs(self.ctx.log_dir, exist_ok=True)
        log = os.path.join(self.ctx.log_dir, "%s.log" % self.name)
        argv = self.command()
        env = dict(os.environ)
        env.update(self.env() or {})
        try:
            with open(log, "ab") as out:
                proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env,
                                        cwd=self.ctx.workdir(self.name),
                                        start_new_session=True)
        except OSError as e:
            raise PeerError(self.name, "cannot run %s: %s" % (argv[0], e))
        self.pids.append(proc.pid)
        self.wait_ready(proc, log)
        return proc
