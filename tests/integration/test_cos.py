"""COS modules against the sandbox's S3 server (moto, SigV4-checked HMAC keys).

Upload, no change on the second run, resume after a killed run, abort or keep on
failure, cleanup, head/delete, and the failure messages (wrong key, missing
bucket, bad bucket name), with no secret in the output at -vvv.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import psutil
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(sandbox):
    """A boto3 client on the sandbox COS, to look behind the modules' back."""
    return sandbox.ctx.peers["cos"].client()


@pytest.fixture
def key():
    return "it/%s.ova" % uuid.uuid4().hex[:12]


def make_file(path, size):
    """A file of random-looking bytes (no two parts alike); returns its SHA-256."""
    sha = hashlib.sha256()
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for i in range(size // MiB):
            chunk = hashlib.md5(str(i).encode()).digest() + block[16:]
            f.write(chunk)
            sha.update(chunk)
        rest = block[:size % MiB]
        f.write(rest)
        sha.update(rest)
    return sha.hexdigest()


def cos_defaults(v, **override):
    """module_defaults for the COS action group; credentials come from the inventory, as in real plays."""
    d = {"endpoint_url": "{{ cos_endpoint_url }}", "region": "{{ cos_region }}",
         "access_key_id": "{{ cos_access_key_id }}", "secret_access_key": "{{ cos_secret_access_key }}"}
    d.update(override)
    return {"group/vmimport.migrate.cos": d}


def play(tasks, defaults):
    return [{"hosts": "localhost", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}]


def upload_task(bucket, key, src, register="up", **kw):
    args = {"bucket": bucket, "key": key, "src": src, "part_size": "5MiB"}
    args.update(kw)
    return {"name": "upload", "vmimport.migrate.cos_multipart_upload": args, "register": register}


def uploads_of(s3, bucket, key):
    return [u for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []) if u["Key"] == key]


def read_progress(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (IOError, ValueError):
        return []


def watch_progress(path, parts, action, timeout=120):
    """Run action() in a thread once the progress file shows `parts` parts sent."""

    def run():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for e in read_progress(path) if e.get("event") == "part" and e.get("sent")) >= parts:
                action()
                return
            time.sleep(0.02)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_upload_then_no_change(run_playbook, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    sha = make_file(src, 23 * MiB + 123)
    tasks = [upload_task(v["cos_bucket"], key, src),
             {"name": "head", "vmimport.migrate.cos_object": {"bucket": v["cos_bucket"], "key": key},
              "register": "obj"}]
    r = run_playbook(play(tasks, cos_defaults(v)))
    assert r.rc == 0, r.stdout[-3000:]
    up = r.result(task="upload")
    assert up["changed"] and up["sha256"] == sha and up["size"] == 23 * MiB + 123
    assert up["parts"] == 5 and up["bytes_sent"] == up["size"] and not up["resumed"] and up["throughput"] > 0
    obj = r.result(task="head")
    assert obj["exists"] and obj["sha256"] == sha and obj["size"] == up["size"] and obj["etag"] == up["etag"]
    head = s3.head_object(Bucket=v["cos_bucket"], Key=key)
    assert head["Metadata"]["sha256"] == sha
    assert not uploads_of(s3, v["cos_bucket"], key)

    again = run_playbook(play([upload_task(v["cos_bucket"], key, src)], cos_defaults(v)))
    assert again.rc == 0
    res = again.result(task="upload")
    assert not res["changed"] and res["bytes_sent"] == 0 and res["sha256"] == sha
    assert again.changed_count() == 0


def test_check_mode_predicts(run_playbook, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    make_file(src, 11 * MiB)
    tasks = [dict(upload_task(v["cos_bucket"], key, src), check_mode=True)]
    r = run_playbook(play(tasks, cos_defaults(v)))
    assert r.rc == 0
    res = r.result(task="upload")
    assert res["changed"] and res["bytes_to_send"] == 11 * MiB
    assert not uploads_of(s3, v["cos_bucket"], key)
    with pytest.raises(Exception):
        s3.head_object(Bucket=v["cos_bucket"], Key=key)


def test_resume_after_the_run_is_killed(run_playbook, sandbox, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    size = 200 * MiB + 7
    src = str(tmp_path / "big.ova")
    sha = make_file(src, size)
    progress = str(tmp_path / "progress.jsonl")
    pb = tmp_path / "upload.yml"
    pb.write_text(yaml.safe_dump(play([upload_task(v["cos_bucket"], key, src, concurrency=1,
                                                   progress_file=progress)], cos_defaults(v))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    proc = subprocess.Popen([ANSIBLE_PLAYBOOK, "-i", sandbox.inventory_file, str(pb)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = threading.Event()

    def kill():
        # ansible-playbook's workers run in sessions of their own: kill the whole tree,
        # module process included, as a crash or a power cut would
        tree = psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
        for p in tree:
            try:
                p.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        killed.set()

    watch_progress(progress, 5, kill).join(180)
    proc.wait(60)
    assert killed.is_set(), "the upload finished before it could be killed"
    time.sleep(0.5)

    pending = uploads_of(s3, v["cos_bucket"], key)
    assert len(pending) == 1, "the killed run should have left its upload"
    listed = s3.list_parts(Bucket=v["cos_bucket"], Key=key, UploadId=pending[0]["UploadId"]).get("Parts", [])
    listed_bytes = sum(p["Size"] for p in listed)
    assert 0 < listed_bytes < size

    r = run_playbook(play([upload_task(v["cos_bucket"], key, src, progress_file=progress)], cos_defaults(v)))
    assert r.rc == 0, r.stdout[-3000:]
    res = r.result(task="upload")
    assert res["changed"] and res["resumed"]
    # nothing already stored is sent again
    assert res["bytes_sent"] == size - listed_bytes
    assert res["bytes_sent"] < size * 0.98
    head = s3.head_object(Bucket=v["cos_bucket"], Key=key)
    assert head["Metadata"]["sha256"] == sha and head["ContentLength"] == size
    assert not uploads_of(s3, v["cos_bucket"], key)


def _shrink_during_upload(run_playbook, v, key, tmp_path, **kw):
    size = 120 * MiB
    src = str(tmp_path / "shrinking.ova")
    make_file(src, size)
    progress = str(tmp_path / "progress.jsonl")
    watcher = watch_progress(progress, 2, lambda: os.truncate(src, 40 * MiB))
    r = run_playbook(play([upload_task(v["cos_bucket"], key, src, concurrency=1, progress_file=progress, **kw)],
                          cos_defaults(v)))
    watcher.join(5)
    assert r.rc != 0
    return r.result(task="upload")


def test_failure_aborts_the_upload(run_playbook, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    res = _shrink_during_upload(run_playbook, v, key, tmp_path)
    assert res["_event"] == "runner_on_failed", res
    assert "shrank" in res["msg"] and "aborted" in res["msg"], res
    assert res["upload_id"] is None
    assert not uploads_of(s3, v["cos_bucket"], key)


def test_failure_keeps_the_upload_when_asked_then_cleanup(run_playbook, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    res = _shrink_during_upload(run_playbook, v, key, tmp_path, keep_on_failure=True)
    assert res["_event"] == "runner_on_failed" and "kept for a resume" in res["msg"], res
    pending = uploads_of(s3, v["cos_bucket"], key)
    assert [u["UploadId"] for u in pending] == [res["upload_id"]]

    cleanup = {"name": "cleanup", "vmimport.migrate.cos_multipart_cleanup":
               {"bucket": v["cos_bucket"], "key": key}, "register": "c"}
    r = run_playbook(play([dict(cleanup, check_mode=True), cleanup], cos_defaults(v)))
    assert r.rc == 0, r.stdout[-3000:]
    check, done = r.results(task="cleanup")
    assert check["changed"] and [u["upload_id"] for u in check["uploads"]] == [res["upload_id"]]
    assert not check["uploads"][0]["aborted"]
    assert done["changed"] and done["aborted"] == 1 and done["uploads"][0]["aborted"]
    assert not uploads_of(s3, v["cos_bucket"], key)


def test_cleanup_by_prefix_and_age(run_playbook, sandbox_vars, s3, tmp_path):
    v = sandbox_vars
    prefix = "cleanup-%s/" % uuid.uuid4().hex[:8]
    ids = [s3.create_multipart_upload(Bucket=v["cos_scratch_bucket"], Key=prefix + n)["UploadId"] for n in "ab"]
    task = {"name": "cleanup", "vmimport.migrate.cos_multipart_cleanup":
            {"bucket": v["cos_scratch_bucket"], "prefix": prefix, "older_than": "1h"}}
    r = run_playbook(play([task, task], cos_defaults(v)))
    assert r.rc == 0, r.stdout[-3000:]
    first, second = r.results(task="cleanup")
    # moto dates every upload in 2010: all are older than an hour
    assert first["changed"] and sorted(u["upload_id"] for u in first["uploads"]) == sorted(ids)
    assert not second["changed"] and second["aborted"] == 0
    assert not s3.list_multipart_uploads(Bucket=v["cos_scratch_bucket"], Prefix=prefix).get("Uploads")


def test_object_head_and_delete(run_playbook, sandbox_vars, s3, key):
    v = sandbox_vars
    s3.put_object(Bucket=v["cos_bucket"], Key=key, Body=b"x" * 10, Metadata={"sha256": "ab" * 32})
    obj = {"bucket": v["cos_bucket"], "key": key}
    tasks = [{"name": "head", "vmimport.migrate.cos_object": obj},
             {"name": "delete", "vmimport.migrate.cos_object": dict(obj, state="absent")},
             {"name": "delete", "vmimport.migrate.cos_object": dict(obj, state="absent")},
             {"name": "head", "vmimport.migrate.cos_object": obj}]
    r = run_playbook(play(tasks, cos_defaults(v)))
    assert r.rc == 0, r.stdout[-3000:]
    head1, head2 = r.results(task="head")
    assert head1["exists"] and head1["size"] == 10 and head1["sha256"] == "ab" * 32
    assert not head2["exists"]
    del1, del2 = r.results(task="delete")
    assert del1["changed"] and not del2["changed"]


def test_wrong_hmac_secret_is_clear_and_leaves_nothing(run_playbook, sandbox_vars, s3, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    make_file(src, 12 * MiB)
    bad = "WRONG" + v["cos_secret_access_key"][5:]
    r = run_playbook(play([upload_task(v["cos_bucket"], key, src)],
                          cos_defaults(v, secret_access_key="{{ bad_secret }}")), extravars={"bad_secret": bad})
    assert r.rc != 0
    res = r.result(task="upload")
    assert "check the HMAC keys" in res["msg"] and "SignatureDoesNotMatch" in res["msg"]
    assert "Traceback" not in r.stdout and bad not in r.stdout
    assert not uploads_of(s3, v["cos_bucket"], key)


def test_missing_bucket_is_clear(run_playbook, sandbox_vars, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    make_file(src, 1 * MiB)
    tasks = [dict(upload_task("no-such-bucket-here", key, src), ignore_errors=True),
             {"name": "head", "vmimport.migrate.cos_object": {"bucket": "no-such-bucket-here", "key": key},
              "ignore_errors": True}]
    r = run_playbook(play(tasks, cos_defaults(v)))
    for res in (r.result(task="upload"), r.result(task="head")):
        assert res["_event"] == "runner_on_failed" and "bucket 'no-such-bucket-here' does not exist" in res["msg"]


def test_bad_bucket_name_fails_before_any_call(run_playbook, sandbox_vars, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    make_file(src, 1 * MiB)
    # a closed port: any call would fail with "cannot reach"
    r = run_playbook(play([upload_task("Images_2026", key, src)],
                          cos_defaults(v, endpoint_url="http://127.0.0.1:9")))
    res = r.result(task="upload")
    assert res["_event"] == "runner_on_failed" and "invalid bucket name" in res["msg"] and "lowercase" in res["msg"]
    assert "cannot reach" not in res["msg"]


def test_no_secret_in_output_at_vvv(run_playbook, sandbox_vars, key, tmp_path):
    v = sandbox_vars
    src = str(tmp_path / "image.ova")
    make_file(src, 6 * MiB)
    api_key = "apikey-" + uuid.uuid4().hex
    defaults = cos_defaults(v, api_key="{{ api_key }}")   # HMAC keys win; the API key must still be hidden
    tasks = [upload_task(v["cos_bucket"], key, src),
             {"name": "cleanup", "vmimport.migrate.cos_multipart_cleanup": {"bucket": v["cos_bucket"], "key": key}},
             {"name": "delete", "vmimport.migrate.cos_object": {"bucket": v["cos_bucket"], "key": key, "state": "absent"}},
             dict(upload_task(v["cos_bucket"], key, str(tmp_path / "missing.ova")), ignore_errors=True)]
    r = run_playbook(play(tasks, defaults), verbosity=3, extravars={"api_key": api_key})
    assert r.rc == 0, r.stdout[-3000:]
    assert r.result(task="upload")["_event"] == "runner_on_failed"
    assert "secret_access_key" in r.stdout  # the option is shown (masked) at -vvv
    assert v["cos_secret_access_key"] not in r.stdout
    assert api_key not in r.stdout
