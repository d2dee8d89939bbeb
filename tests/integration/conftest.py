"""Fixtures for integration tests: the sandbox and a playbook runner.

Every test here runs real playbooks through ansible-runner's Python API
against the sandbox peers (see docs/sandbox.md). The collection under test is
the one installed from the built tarball (VMIMPORT_COLLECTIONS_PATH, set by
the Makefile) or, when run by hand, the checkout's .build/collections tree.
"""

import json
import os
import sys
import tempfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import ansible_runner  # noqa: E402

# ansible-runner starts ansible-playbook from PATH: use the one next to this interpreter
_bindir = os.path.dirname(sys.executable)
if _bindir not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bindir + os.pathsep + os.environ.get("PATH", "")

from sandbox.launcher import Sandbox  # noqa: E402

COLLECTIONS_PATH = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """All sandbox peers, started once for the session and stopped at its end."""
    state_dir = os.environ.get("VMIMPORT_SANDBOX_DIR") or str(tmp_path_factory.mktemp("sandbox"))
    # VMIMPORT_SANDBOX_ONLY=cos,powervs runs a subset (with what it needs) when running a few tests by hand
    only = [n for n in os.environ.get("VMIMPORT_SANDBOX_ONLY", "").split(",") if n] or None
    with Sandbox(only=only, state_dir=state_dir) as sb:
        yield sb


@pytest.fixture(scope="session")
def inventory(sandbox):
    """The generated inventory as a dict."""
    with open(sandbox.inventory_file) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="session")
def sandbox_vars(inventory):
    return inventory["all"]["vars"]


class PlaybookRun(object):
    def __init__(self, runner, stdout):
        self.runner = runner
        self.rc = runner.rc
        self.status = runner.status
        self.stdout = stdout
        self.events = list(runner.events)

    def results(self, task=None, module=None, event=None):
        """Task results (dicts) of runner_on_ok / runner_on_failed, filtered."""
        out = []
        for ev in self.events:
            if ev.get("event") not in (event and (event,) or ("runner_on_ok", "runner_on_failed")):
                continue
            data = ev.get("event_data", {})
            if task is not None and data.get("task") != task:
                continue
            if module is not None and not data.get("task_action", "").endswith(module):
                continue
            res = dict(data.get("res", {}))
            res["_event"] = ev.get("event")
            res["_host"] = data.get("host")
            out.append(res)
        return out

    def result(self, task=None, module=None):
        res = self.results(task=task, module=module)
        assert res, "no result for task=%r module=%r; output:\n%s" % (task, module, self.stdout[-4000:])
        return res[-1]

    @property
    def stats(self):
        return self.runner.stats or {}

    def changed_count(self):
        return sum((self.stats.get("changed") or {}).values())

    def __repr__(self):
        return "<PlaybookRun rc=%s status=%s>" % (self.rc, self.status)


@pytest.fixture
def run_playbook(sandbox, tmp_path):
    """run_playbook(playbook, extravars=None, verbosity=0, limit=None, envvars=None).

    playbook: a path (relative to the repo root) or a list of plays (YAML data).
    """

    def _run(playbook, extravars=None, verbosity=0, limit=None, envvars=None, inventory=None):
        pdd = tempfile.mkdtemp(dir=str(tmp_path))
        if not isinstance(playbook, str):
            path = os.path.join(pdd, "play.yml")
            with open(path, "w") as f:
                yaml.safe_dump(playbook, f)
            playbook = path
        elif not os.path.isabs(playbook):
            playbook = os.path.join(ROOT, playbook)
        env = {
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
            "ANSIBLE_ROLES_PATH": os.path.join(COLLECTIONS_PATH, "ansible_collections", "vmimport", "migrate", "roles"),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(pdd, "tmp"),
        }
        env.update(envvars or {})
        r = ansible_runner.run(
            private_data_dir=pdd,
            playbook=playbook,
            inventory=inventory or sandbox.inventory_file,
            extravars=extravars or {},
            verbosity=verbosity or None,
            limit=limit,
            envvars=env,
            quiet=True,
            json_mode=False,
        )
        stdout = r.stdout.read()
        return PlaybookRun(r, stdout)

    return _run


def dump(obj):
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
