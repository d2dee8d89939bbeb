"""The PowerVC -> COS -> PowerVS workflow end to end: playbooks/powervc_to_powervs.yml over
real SSH against the sandbox (sshd + powervc-image emulator, moto COS, PowerVS emulator)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))

PLAYBOOK = "playbooks/powervc_to_powervs.yml"


@pytest.fixture
def pvs(sandbox):
    peer = sandbox.ctx.peers["powervs"]
    peer.admin("reset", {})
    yield peer
    peer.admin("reset", {})


@pytest.fixture
def cos(sandbox):
    return sandbox.ctx.peers["cos"].client()


@pytest.fixture
def powervc(sandbox):
    return sandbox.ctx.peers["powervc"]


def _bucket_state(cos, bucket):
    objs = [o["Key"] for o in cos.list_objects_v2(Bucket=bucket).get("Contents", [])]
    ups = [(u["Key"], u["UploadId"]) for u in cos.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    return objs, ups


def _clean_bucket(cos, bucket):
    objs, ups = _bucket_state(cos, bucket)
    for key in objs:
        cos.delete_object(Bucket=bucket, Key=key)
    for key, upload_id in ups:
        cos.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


def _sessions(powervc):
    d = powervc.sessions_dir
    # the sessions directory also holds the host's virtualenv (powervc_host_prepare)
    return sorted(n for n in os.listdir(d) if n != "venv") if os.path.isdir(d) else []


def _images(pvs):
    return [i["name"] for i in pvs.admin("state")["images"]]


def test_end_to_end_then_no_change(run_playbook, pvs, cos, powervc, sandbox_vars):
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    images = [{"name": "rhel83-small", "os_type": "rhel"}, {"name": "aix72-base", "target_name": "aix72-imported", "os_type": "aix"}]

    first = run_playbook(PLAYBOOK, extravars={"powervc_images": images}, verbosity=3)
    assert first.rc == 0, first.stdout[-6000:]
    assert sorted(_images(pvs)) == ["aix72-imported", "rhel83-small"]
    uploads = first.results(module="cos_multipart_upload")
    assert len(uploads) == 2 and all(u["changed"] for u in uploads)
    assert all(u["size"] > 0 and u["bytes_sent"] == u["size"] for u in uploads)
    exports = first.results(module="powervc_image_export")
    assert {e["image"]["name"] for e in exports} == {"rhel83-small", "aix72-base"}
    # nothing left behind: no OVA object, no incomplete upload, no session directory
    assert _bucket_state(cos, bucket) == ([], [])
    assert _sessions(powervc) == []
    # no secret in the output, even at -vvv
    for name in ("cos_secret_access_key", "pvs_api_key"):
        assert sandbox_vars[name] not in first.stdout, name
    assert powervc.password not in first.stdout

    second = run_playbook(PLAYBOOK, extravars={"powervc_images": images})
    assert second.rc == 0, second.stdout[-4000:]
    assert second.changed_count() == 0, second.stdout[-4000:]
    assert not second.results(module="powervc_image_export")
    assert len(pvs.admin("state")["jobs"]) == 2  # no new import job


def test_failed_import_leaves_nothing(run_playbook, pvs, cos, powervc, sandbox_vars):
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    pvs.admin("faults", {"fail_next_job": "imageImport operation failed::disk format not supported"})
    run = run_playbook(PLAYBOOK, extravars={"powervc_images": [{"name": "sles15-le", "os_type": "sles"}]})
    assert run.rc != 0
    assert "sles15-le: failed at import" in run.stdout
    assert "disk format not supported" in run.stdout
    assert _bucket_state(cos, bucket) == ([], [])
    assert _sessions(powervc) == []
    assert "sles15-le" not in _images(pvs)


def test_failed_import_keeps_ova_when_asked(run_playbook, pvs, cos, powervc, sandbox_vars):
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    pvs.admin("faults", {"fail_next_job": "imageImport operation failed::disk format not supported"})
    run = run_playbook(PLAYBOOK, extravars={"powervc_images": [{"name": "sles15-le", "os_type": "sles"}],
                                            "keep_ova": True})
    assert run.rc != 0
    objs, ups = _bucket_state(cos, bucket)
    assert objs == ["sles15-le.ova"] and ups == []
    assert _sessions(powervc) == []
    _clean_bucket(cos, bucket)


def test_unknown_image_one_clear_error_nothing_changed(run_playbook, pvs, cos, powervc, sandbox_vars):
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    run = run_playbook(PLAYBOOK, extravars={"powervc_images": [{"name": "no-such-image"}]})
    assert run.rc != 0
    assert "no-such-image: failed at export" in run.stdout
    assert "no-such-image" in run.stdout and "not found" in run.stdout.lower()
    assert _bucket_state(cos, bucket) == ([], [])
    assert _sessions(powervc) == []
    assert pvs.admin("state")["jobs"] == []


def test_bad_input_fails_before_any_side_effect(run_playbook, pvs, cos, powervc, sandbox_vars):
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    run = run_playbook(PLAYBOOK, extravars={"powervc_images": [{"name": "rhel83-small", "os_type": "windows"}]})
    assert run.rc != 0
    assert "os_type" in run.stdout and "windows" in run.stdout
    assert _bucket_state(cos, bucket) == ([], [])
    assert _sessions(powervc) == []
    assert pvs.admin("state")["jobs"] == []


def test_killed_during_upload_resumes(sandbox, run_playbook, pvs, cos, powervc, sandbox_vars, tmp_path):
    """Kill the controller and the remote upload midway, run again: the OVA is not exported
    again, the upload resumes from its parts, and the object's SHA-256 is the OVA's."""
    bucket = sandbox_vars["cos_bucket"]
    _clean_bucket(cos, bucket)
    name = "rhel-resume"
    size = 160 * 1024 * 1024

    def bigger(cfg):
        img = dict(cfg["images"][0], name=name, id="5d2c1f7e-0000-4000-8000-00000000beef", size_bytes=size)
        cfg["images"].append(img)
        return cfg

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_NOCOLOR="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    extra = json.dumps({"powervc_images": [{"name": name, "os_type": "rhel"}],
                        # small parts, one at a time: the upload takes long enough to be killed
                        "powervc_to_powervs_cos_part_size_mib": 5, "powervc_to_powervs_cos_concurrency": 1})
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", sandbox.inventory_file,
            os.path.join(ROOT, PLAYBOOK), "-e", extra]
    with powervc.catalog_changed(bigger):
        log = open(str(tmp_path / "first.log"), "w")
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        parts = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            ups = cos.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            if ups:
                parts = cos.list_parts(Bucket=bucket, Key=ups[0]["Key"], UploadId=ups[0]["UploadId"]).get("Parts", [])
                if len(parts) >= 12:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed: %s" % open(str(tmp_path / "first.log")).read()[-3000:]
        # the controller dies, and with it the connection and the remote upload
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        subprocess.run(["pkill", "-KILL", "-u", powervc.sshd.user, "-f", "AnsiballZ"], check=False)
        time.sleep(0.5)
        objs, ups = _bucket_state(cos, bucket)
        assert objs == [] and len(ups) == 1
        sent_before = sum(p["Size"] for p in cos.list_parts(Bucket=bucket, Key=ups[0][0], UploadId=ups[0][1])["Parts"])
        assert sent_before > 0

        second = run_playbook(PLAYBOOK, extravars=dict(json.loads(extra), keep_ova=True))
        assert second.rc == 0, second.stdout[-6000:]

    export = second.result(module="powervc_image_export")
    upload = second.result(module="cos_multipart_upload")
    assert export["changed"] is False  # the intact OVA was not exported again
    assert upload["resumed"] is True
    assert upload["bytes_sent"] <= size - sent_before + 5 * 1024 * 1024
    assert upload["bytes_sent"] < size * 0.95
    assert name in _images(pvs)
    head = cos.head_object(Bucket=bucket, Key="%s.ova" % name)
    assert head["Metadata"]["sha256"] == export["sha256"]
    assert _bucket_state(cos, bucket)[1] == []
    assert _sessions(powervc) == []
    _clean_bucket(cos, bucket)
