"""PowerVC modules and the host preparation role, run ON the sandbox's PowerVC host over SSH.

The host (``powervc01``) is the sshd peer's user with the ``powervc-image`` emulator on its PATH,
an rc file without password and the emulator's catalog (see sandbox/peers/powervc.py).
"""

import hashlib
import json
import os
import shutil
import tarfile
import uuid

import pytest

AUTH = {
    "rc_file": "{{ powervc_rc_file }}",
    "username": "{{ powervc_username }}",
    "password": "{{ powervc_password }}",
    "cli_path": "{{ powervc_cli }}",
}
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def pvc(sandbox):
    return sandbox.ctx.peers["powervc"]


@pytest.fixture
def session(pvc):
    """A session directory of its own for each test (on the host, as the host's user sees it),
    removed afterwards so that later tests find the sessions directory as they left it."""
    path = os.path.join(pvc.sessions_dir, "it-%s" % uuid.uuid4().hex[:8])
    yield path
    shutil.rmtree(path, ignore_errors=True)


def play(*tasks, check_mode=False, **play_vars):
    p = {"name": "powervc", "hosts": "powervc01", "gather_facts": False,
         "module_defaults": {"group/vmimport.migrate.powervc": AUTH}, "tasks": list(tasks)}
    if check_mode:
        p["check_mode"] = True
    if play_vars:
        p["vars"] = play_vars
    return [p]


def export_task(image, session_dir, name="export", **kw):
    args = {"image": image, "session_dir": session_dir}
    args.update(kw)
    return {"name": name, "vmimport.migrate.powervc_image_export": args, "register": "out"}


def exports_of(pvc, image_id):
    return [c for c in pvc.calls() if c.get("command") == "export" and c.get("image") == image_id]


def image(pvc, name):
    return [i for i in pvc.read_catalog()["images"] if i["name"] == name][0]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


# info ------------------------------------------------------------------------------------------

def test_info_lists_the_catalog_and_filters(run_playbook, pvc):
    run = run_playbook(play(
        {"name": "all", "vmimport.migrate.powervc_image_info": {}},
        {"name": "by id", "vmimport.migrate.powervc_image_info": {"image": image(pvc, "aix72-base")["id"]}},
        {"name": "not exportable", "vmimport.migrate.powervc_image_info": {"exportable": False}},
    ))
    assert run.rc == 0, run.stdout
    listed = run.result(task="all")["images"]
    catalog = pvc.read_catalog()["images"]
    assert [(i["name"], i["id"], i["exportable"], i["volumes"], i["size"], i["os_distro"]) for i in listed] == \
        [(c["name"], c["id"], c["exportable"], c["volumes"], c["size_gb"], c["os_distro"]) for c in catalog]
    assert [i["name"] for i in run.result(task="by id")["images"]] == ["aix72-base"]
    assert [i["name"] for i in run.result(task="not exportable")["images"]] == ["ibmi-legacy"]
    assert run.changed_count() == 0


# export ------------------------------------------------------------------------------------------

def test_export_then_no_change(run_playbook, pvc, session):
    img = image(pvc, "rhel83-small")
    before = len(exports_of(pvc, img["id"]))
    run = run_playbook(play(export_task("rhel83-small", session, name="first"),
                            export_task("rhel83-small", session, name="second")))
    assert run.rc == 0, run.stdout
    first, second = run.result(task="first"), run.result(task="second")
    path = os.path.join(session, "rhel83-small.ova")
    assert first["changed"] is True and first["exported"] is True and first["path"] == path
    assert second["changed"] is False and second["exported"] is False
    assert first["sha256"] == second["sha256"] == sha256(path)
    assert first["size"] == os.path.getsize(path)
    with open(path + ".sha256") as f:
        assert f.read() == "%s  rhel83-small.ova\n" % first["sha256"]
    with tarfile.open(path) as tar:
        members = tar.getmembers()
    assert members[0].name.endswith(".ovf")
    assert [(m.name, m.size) for m in members[1:2]] == [("volume1", img["size_bytes"])]
    assert sorted(os.listdir(session)) == ["rhel83-small.ova", "rhel83-small.ova.sha256"]
    assert len(exports_of(pvc, img["id"])) == before + 1  # the second task did not export again


def test_export_multi_volume_image_by_id_to_a_path(run_playbook, pvc, session):
    img = image(pvc, "aix72-base")
    dest = os.path.join(session, "aix.ova")
    run = run_playbook(play({"name": "export", "vmimport.migrate.powervc_image_export":
                             {"image": img["id"], "dest": dest}}))
    assert run.rc == 0, run.stdout
    res = run.result(task="export")
    assert res["path"] == dest and res["image"]["name"] == "aix72-base"
    with tarfile.open(dest) as tar:
        names = tar.getnames()
    assert names[0] == "aix72-base.ovf" and names[1:3] == ["volume1", "volume2"]


def test_check_mode_writes_nothing(run_playbook, session):
    run = run_playbook(play(export_task("sles15-le", session), check_mode=True))
    assert run.rc == 0, run.stdout
    res = run.result(task="export")
    assert res["changed"] is True and res["sha256"] is None and res["required_bytes"] > 0
    assert not os.path.exists(session)


def test_failed_export_leaves_nothing_and_a_rerun_exports(run_playbook, pvc, session):
    def fail_once(cfg):
        cfg["faults"] = {"export_fail_after_bytes": 5 * MIB, "export_times": 1,
                         "export_fail_message": "volume read error injected by the test"}

    with pvc.catalog_changed(fail_once):
        run = run_playbook(play(export_task("sles15-le", session)))
        assert run.rc != 0
        assert "volume read error injected by the test" in run.result(task="export")["msg"]
        assert os.listdir(session) == []  # the partial file was removed
        again = run_playbook(play(export_task("sles15-le", session)))
    assert again.rc == 0, again.stdout
    res = again.result(task="export")
    assert res["changed"] is True and res["sha256"] == sha256(res["path"])


def test_killed_export_and_partial_ova_are_replaced(run_playbook, pvc, session):
    with pvc.catalog_changed(lambda cfg: cfg.update(faults={"export_exit_after_bytes": 3 * MIB})):
        run = run_playbook(play(export_task("rhel83-small", session)))
    assert run.rc != 0
    assert "rc=137" in run.result(task="export")["msg"]
    assert os.listdir(session) == []
    # an OVA left by an interrupted run (no matching checksum) is exported again
    path = os.path.join(session, "rhel83-small.ova")
    with open(path, "wb") as f:
        f.write(b"\0" * (2 * MIB))
    os.chown(path, pvc.sshd.uid, pvc.sshd.gid)
    run = run_playbook(play(export_task("rhel83-small", session)))
    assert run.rc == 0, run.stdout
    res = run.result(task="export")
    assert res["changed"] is True and res["removed_partial"] is True
    assert res["sha256"] == sha256(path) and res["size"] > 16 * MIB


@pytest.mark.parametrize("name,needle", [
    ("no-such-image", "PowerVC image 'no-such-image' not found"),
    ("ibmi-legacy", "is not exportable"),
])
def test_export_preflight_errors(run_playbook, session, name, needle):
    run = run_playbook(play(export_task(name, session)))
    assert run.rc != 0
    res = run.result(task="export")
    assert needle in res["msg"]
    assert not os.path.exists(session)


def test_not_enough_disk_names_both_numbers(run_playbook, pvc, session):
    before = len(exports_of(pvc, image(pvc, "rhel-huge")["id"]))
    run = run_playbook(play(export_task("rhel-huge", session)))
    assert run.rc != 0
    res = run.result(task="export")
    assert res["required_bytes"] > res["free_bytes"] > 0
    assert "not enough free space" in res["msg"]
    assert str(res["required_bytes"]) in res["msg"] and str(res["free_bytes"]) in res["msg"]
    assert len(exports_of(pvc, image(pvc, "rhel-huge")["id"])) == before


def test_missing_rc_file_names_path_and_option(run_playbook, session):
    run = run_playbook(play(export_task("rhel83-small", session, rc_file="/nonexistent/powervcrc")))
    assert run.rc != 0
    msg = run.result(task="export")["msg"]
    assert "/nonexistent/powervcrc not found" in msg and "rc_file" in msg


def test_wrong_password_is_refused_and_not_shown(run_playbook):
    wrong = "wrong-%s" % uuid.uuid4().hex
    run = run_playbook(play({"name": "info", "vmimport.migrate.powervc_image_info": {"password": wrong}}),
                       verbosity=3)
    assert run.rc != 0
    msg = run.result(task="info")["msg"]
    assert "requires authentication. (HTTP 401)" in msg and "refused the credentials" in msg
    assert wrong not in run.stdout


def test_password_never_in_output_or_on_disk(run_playbook, pvc, session):
    run = run_playbook(play(
        {"name": "info", "vmimport.migrate.powervc_image_info": {}},
        export_task("sles15-le", session),
        {"name": "unknown", "vmimport.migrate.powervc_image_export": {"image": "nope", "session_dir": session},
         "ignore_errors": True},
    ), verbosity=3)
    assert run.rc == 0, run.stdout
    assert run.result(task="export")["changed"] is True
    assert pvc.password not in run.stdout
    assert pvc.password not in json.dumps(run.events, default=str)
    # nothing the modules left on the host holds it (the emulator's own catalog, PowerVC's side
    # of the sandbox, does)
    # (the SSH user's home may hold other sandboxes too: look at this one and Ansible's remote tmp)
    for root in (pvc.sshd.remote_dir, os.path.join(pvc.sshd.home, ".ansible")):
        for top, _dirs, files in os.walk(root):
            for f in files:
                path = os.path.join(top, f)
                try:
                    if path == pvc.catalog or os.path.getsize(path) > 4 * MIB or "/wheels/" in path:
                        continue
                    with open(path, "rb") as fh:
                        data = fh.read()
                except OSError:
                    continue  # removed meanwhile
                assert pvc.password.encode() not in data, path
    with open(pvc.rc_file) as f:
        assert "export OS_PASSWORD" not in f.read()


# the host preparation role -----------------------------------------------------------------------

def role_play(pvc, session, check_mode=False, **overrides):
    role_vars = {
        "powervc_host_prepare_sessions_dir": session,
        "powervc_host_prepare_rc_file": "{{ powervc_rc_file }}",
        "powervc_host_prepare_cli": "{{ powervc_cli }}",
        "powervc_host_prepare_pip_find_links": ["{{ powervc_wheelhouse }}"],
        "powervc_host_prepare_pip_no_index": True,
        "powervc_host_prepare_check_login": True,
        "powervc_host_prepare_password": "{{ powervc_password }}",
    }
    role_vars.update(overrides)
    p = {"name": "prepare", "hosts": "powervc01", "gather_facts": False,
         "roles": [{"role": "vmimport.migrate.powervc_host_prepare", "vars": role_vars}],
         "post_tasks": [{"name": "facts", "ansible.builtin.debug": {
             "msg": "{{ powervc_host_prepare_python }} {{ powervc_host_prepare_cli_path }}"}}]}
    if check_mode:
        p["check_mode"] = True
    return [p]


def test_host_prepare_role_is_idempotent(run_playbook, pvc, session):
    if not pvc.wheelhouse:
        pytest.skip("no wheelhouse for an offline install: %s" % pvc.wheelhouse_error)
    first = run_playbook(role_play(pvc, session))
    assert first.rc == 0, first.stdout
    assert first.changed_count() >= 2  # directory and virtualenv
    assert first.result(task="facts")["msg"] == "%s/venv/bin/python %s" % (session, pvc.cli)
    assert oct(os.stat(session).st_mode & 0o777) == "0o750"
    assert os.stat(session).st_uid == pvc.sshd.uid
    assert os.access(os.path.join(session, "venv", "bin", "python"), os.X_OK)

    second = run_playbook(role_play(pvc, session))
    assert second.rc == 0, second.stdout
    assert second.changed_count() == 0

    checked = run_playbook(role_play(pvc, session, check_mode=True))
    assert checked.rc == 0, checked.stdout
    assert checked.changed_count() == 0
    assert pvc.password not in first.stdout + second.stdout


@pytest.mark.parametrize("override,needle", [
    ({"powervc_host_prepare_rc_file": "/nonexistent/powervcrc"},
     "The PowerVC rc file /nonexistent/powervcrc is missing"),
    ({"powervc_host_prepare_cli": "powervc-image-not-installed"},
     "powervc-image-not-installed was not found on the PATH"),
    ({"powervc_host_prepare_password": "wrong-password"}, "HTTP 401"),
])
def test_host_prepare_role_says_what_is_missing(run_playbook, pvc, session, override, needle):
    run = run_playbook(role_play(pvc, session, **override))
    assert run.rc != 0
    failed = [r for r in run.results() if r["_event"] == "runner_on_failed"]
    assert failed and needle in failed[-1]["msg"]
    assert not os.path.exists(session)  # the checks run before anything is created
