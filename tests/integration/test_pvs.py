"""pvs_image_import / pvs_image_info against the sandbox: the PowerVS + IAM emulator reading the COS peer.

Every test resets the emulator (jobs, images, faults) and runs real playbooks on localhost.
"""

import io
import tarfile
import threading
import time
import uuid

import pytest

OVF = b"""<?xml version="1.0" encoding="UTF-8"?>
<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <ovf:DiskSection><ovf:Disk ovf:diskId="disk0" ovf:capacity="20" ovf:capacityAllocationUnits="byte * 2^30"/></ovf:DiskSection>
  <ovf:VirtualSystem ovf:id="rhel93">
    <ovf:OperatingSystemSection ovf:id="80"><ovf:Description>Red Hat Enterprise Linux 9.3 (ppc64le)</ovf:Description>
    </ovf:OperatingSystemSection>
  </ovf:VirtualSystem>
</ovf:Envelope>
"""


def make_ova(disk_bytes=256 * 1024):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("image.ovf", OVF), ("disk0.raw", b"\0\1" * (disk_bytes // 2))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def pvs(sandbox):
    peer = sandbox.ctx.peers["powervs"]
    peer.admin("reset", {})
    yield peer
    peer.admin("reset", {})


@pytest.fixture
def ova(sandbox, sandbox_vars):
    """An OVA object in the sandbox bucket; its key."""
    key = "pvs-%s.ova" % uuid.uuid4().hex[:8]
    cos = sandbox.ctx.peers["cos"].client()
    cos.put_object(Bucket=sandbox_vars["cos_bucket"], Key=key, Body=make_ova())
    yield key
    cos.delete_object(Bucket=sandbox_vars["cos_bucket"], Key=key)


def play(tasks):
    return [{
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/vmimport.migrate.powervs": {
            "api_key": "{{ pvs_api_key }}",
            "iam_url": "{{ pvs_iam_url }}",
            "endpoint_url": "{{ pvs_endpoint_url }}",
            "zone": "{{ pvs_zone }}",
            "account_id": "{{ pvs_account_id }}",
            "cloud_instance_id": "{{ pvs_cloud_instance_id }}",
        }},
        "tasks": tasks,
    }]


def import_task(name, key, **kw):
    args = {
        "image_name": name,
        "bucket_name": "{{ cos_bucket }}",
        "image_filename": key,
        "cos_region": "{{ cos_region }}",
        "access_key": "{{ cos_access_key_id }}",
        "secret_key": "{{ cos_secret_access_key }}",
        "poll_interval": 0.3,
        "poll_max_interval": 0.5,
        "wait_timeout": 120,
    }
    args.update(kw)
    return {"name": "import", "vmimport.migrate.pvs_image_import": args}


def failed_msg(run):
    res = run.result(task="import")
    assert res["_event"] == "runner_on_failed", res
    return res["msg"]


def test_import_completes_then_no_change(run_playbook, pvs, ova):
    tasks = [import_task("rhel93-app", ova),
             {"name": "info", "vmimport.migrate.pvs_image_info": {"name": "rhel93-app"}}]
    run = run_playbook(play(tasks))
    assert run.rc == 0, run.stdout[-3000:]
    res = run.result(task="import")
    assert res["changed"] is True
    image = res["image"]
    assert image["name"] == "rhel93-app" and image["state"] == "active"
    assert image["specifications"]["architecture"] == "ppc64le"
    assert image["specifications"]["operatingSystem"] == "rhel"
    assert image["size"] == 20
    assert res["job"]["state"] == "completed" and res["states_seen"][-1] == "completed"
    info = run.result(task="info")
    assert [i["imageID"] for i in info["images"]] == [image["imageID"]]

    again = run_playbook(play([import_task("rhel93-app", ova)]))
    assert again.rc == 0 and again.changed_count() == 0
    assert again.result(task="import")["image"]["imageID"] == image["imageID"]
    assert len(pvs.admin("state")["jobs"]) == 1


def test_every_pending_state_is_waited_through(run_playbook, pvs, ova):
    pending = ["queued", "readyForProcessing", "inProgress", "running", "waiting"]
    pvs.admin("faults", {"pending_states": pending, "state_seconds": 1.5})
    run = run_playbook(play([import_task("slow", ova, poll_interval=0.2, poll_max_interval=0.3)]))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result(task="import")["states_seen"] == pending + ["completed"]


def test_check_mode_posts_nothing(run_playbook, pvs, ova):
    run = run_playbook(play([dict(import_task("checked", ova), check_mode=True)]))
    res = run.result(task="import")
    assert run.rc == 0 and res["changed"] is True
    assert res["body"]["secretKey"] == "********" and res["body"]["imageFilename"] == ova
    state = pvs.admin("state")
    pcloud = [r for r in state["requests"] if r["path"].startswith("/pcloud/")]
    assert state["jobs"] == [] and pcloud and all(r["method"] == "GET" for r in pcloud)


def test_wait_false_then_async_wait_reuses_the_job(run_playbook, pvs, ova):
    pvs.admin("faults", {"state_seconds": 3.0})  # long enough for the second task to find the job running
    tasks = [dict(import_task("later", ova, wait=False), name="start"),
             dict(import_task("later", ova), **{"async": 90, "poll": 1})]
    run = run_playbook(play(tasks))
    assert run.rc == 0, run.stdout[-3000:]
    started = run.result(task="start")
    assert started["changed"] is True and started["job"]["id"] and started["image"] is None
    waited = run.result(task="import")
    assert waited["adopted"] is True and waited["job"]["id"] == started["job"]["id"]
    assert waited["image"]["name"] == "later"
    assert len(pvs.admin("state")["jobs"]) == 1


def test_failed_job_message_surfaces(run_playbook, pvs, ova):
    message = "imageImport operation failed::the sandbox was told to fail this job"
    pvs.admin("faults", {"fail_next_job": message})
    run = run_playbook(play([import_task("doomed", ova)]))
    assert run.rc != 0
    assert message in failed_msg(run)


def test_wrong_hmac_key_fails_with_the_download_error(run_playbook, pvs, ova):
    run = run_playbook(play([import_task("badkey", ova, secret_key="not-the-secret-key-0000000000000000")]))
    msg = failed_msg(run)
    assert "download of image file %s has failed, error:Access Denied" % ova in msg
    assert "check access_key and secret_key" in msg


def test_missing_object_fails_with_not_found(run_playbook, pvs):
    run = run_playbook(play([import_task("missing", "no-such-image.ova")]))
    msg = failed_msg(run)
    assert "download of image file no-such-image.ova has failed, error:file no-such-image.ova not found" in msg
    assert "check bucket_name, image_filename and cos_region" in msg


def test_bucket_in_another_region_fails(run_playbook, pvs, ova):
    run = run_playbook(play([import_task("elsewhere", ova, cos_region="eu-de")]))
    assert "bucket %s not found in region eu-de" % "vmimport-images" in failed_msg(run)


@pytest.mark.parametrize("kw, expected", [
    ({"os_type": "windows"}, "value of os_type must be one of: aix, ibmi, rhel, sles, got: windows"),
    ({"cos_region": "mars-1"}, "value of cos_region must be one of"),
    ({"bucket_name": "Not_A_Bucket"}, "is not a valid COS bucket name"),
])
def test_bad_input_is_refused_before_any_call(run_playbook, pvs, ova, kw, expected):
    run = run_playbook(play([import_task("bad", ova, **kw)]))
    assert expected in failed_msg(run)
    state = pvs.admin("state")
    assert state["requests"] == [] and state["tokens_issued"] == 0


def test_wrong_api_key_is_a_clear_error(run_playbook, pvs, ova):
    tasks = [dict(import_task("x", ova), **{"vmimport.migrate.pvs_image_import": dict(
        import_task("x", ova)["vmimport.migrate.pvs_image_import"], api_key="this-is-not-a-valid-api-key")})]
    run = run_playbook(play(tasks))
    msg = failed_msg(run)
    assert "IAM refused the API key" in msg and "BXNIM0415E Provided API key could not be found" in msg
    assert "this-is-not-a-valid-api-key" not in run.stdout


def test_expired_api_key_is_a_clear_error(run_playbook, pvs, ova, sandbox_vars):
    pvs.admin("faults", {"expired_api_keys": [sandbox_vars["pvs_api_key"]]})
    msg = failed_msg(run_playbook(play([import_task("x", ova)])))
    assert "IAM refused the API key" in msg and "Check api_key (or the IBMCLOUD_API_KEY" in msg


def test_revoked_token_is_renewed(run_playbook, pvs, ova):
    pvs.admin("faults", {"state_seconds": 1.0})
    revoked = []

    def revoke_once_the_job_runs():
        deadline = time.time() + 60
        while time.time() < deadline:
            if pvs.admin("state")["jobs"]:
                pvs.admin("faults", {"revoke_tokens": True})
                revoked.append(True)
                return
            time.sleep(0.1)

    t = threading.Thread(target=revoke_once_the_job_runs)
    t.start()
    run = run_playbook(play([import_task("renewed", ova)]))
    t.join()
    assert revoked and run.rc == 0, run.stdout[-3000:]
    state = pvs.admin("state")
    assert any(r["status"] == 401 for r in state["requests"])
    assert state["tokens_issued"] >= 2


def test_unknown_workspace_is_a_clear_error(run_playbook, pvs, ova):
    run = run_playbook(play([import_task("x", ova, cloud_instance_id=str(uuid.uuid4()))]))
    msg = failed_msg(run)
    assert "HTTP 404" in msg and "not found" in msg and "Check cloud_instance_id" in msg


def test_wrong_zone_is_a_clear_error(run_playbook, pvs, ova, sandbox_vars):
    run = run_playbook(play([import_task("x", ova, zone=sandbox_vars["pvs_other_zone"])]))
    msg = failed_msg(run)
    assert "HTTP 403" in msg and "Check account_id (or crn) and zone" in msg


def test_429_and_500_are_retried(run_playbook, pvs, ova):
    pvs.admin("faults", {"http_errors": {"status": 429, "count": 2, "retry_after": 1}})
    run = run_playbook(play([import_task("busy", ova)]))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result(task="import")["retries"] >= 2
    statuses = [r["status"] for r in pvs.admin("state")["requests"]]
    assert statuses.count(429) == 2

    pvs.admin("reset", {})
    pvs.admin("faults", {"http_errors": {"status": 500, "count": 2, "methods": ["GET"]}})
    run = run_playbook(play([import_task("busy", ova)]))
    assert run.rc == 0, run.stdout[-3000:]
    assert [r["status"] for r in pvs.admin("state")["requests"]].count(500) == 2

    pvs.admin("reset", {})
    pvs.admin("faults", {"http_errors": {"status": 503, "count": 1, "scope": "iam", "retry_after": 1}})
    run = run_playbook(play([import_task("busy", ova)]))
    assert run.rc == 0, run.stdout[-3000:]
    iam = [r["status"] for r in pvs.admin("state")["requests"] if r["path"] == "/identity/token"]
    assert iam[:2] == [503, 200]


def test_gateway_timeout_on_post_starts_one_job(run_playbook, pvs, ova):
    pvs.admin("faults", {"gateway_timeout_after_create": 1})
    run = run_playbook(play([import_task("lost-answer", ova)]))
    assert run.rc == 0, run.stdout[-3000:]
    res = run.result(task="import")
    assert res["adopted"] is True and res["image"]["name"] == "lost-answer"
    state = pvs.admin("state")
    assert len(state["jobs"]) == 1 and [r["status"] for r in state["requests"]].count(504) == 1


def test_no_secret_in_output_at_vvv(run_playbook, pvs, ova, sandbox_vars):
    tasks = [import_task("secret-check", ova),
             dict(import_task("secret-fail", "no-such.ova"), name="failing", ignore_errors=True),
             dict(import_task("secret-check", ova), name="checked", check_mode=True)]
    run = run_playbook(play(tasks), verbosity=3)
    assert run.rc == 0, run.stdout[-3000:]
    assert "secret-check" in run.stdout and "no-such.ova" in run.stdout
    for secret in (sandbox_vars["pvs_api_key"], sandbox_vars["cos_secret_access_key"]):
        assert secret not in run.stdout


def test_emulator_tokens_expire_and_objects_can_be_deleted(pvs, ova, sandbox_vars):
    """The emulator itself: expired tokens get 401; jobs and images can be listed and deleted."""
    import requests

    v = sandbox_vars
    pvs.admin("faults", {"token_lifetime": 1})
    tok = requests.post(v["pvs_iam_url"] + "/identity/token", data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": v["pvs_api_key"]}).json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 1
    base = "%s/pcloud/v1/cloud-instances/%s" % (v["pvs_endpoint_url"], v["pvs_cloud_instance_id"])
    headers = {"Authorization": "Bearer " + tok["access_token"], "CRN": v["pvs_crn"]}
    assert requests.get(base + "/images", headers=headers).status_code == 200
    time.sleep(1.2)
    expired = requests.get(base + "/images", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["description"]

    pvs.admin("faults", {"token_lifetime": 3600})
    tok = requests.post(v["pvs_iam_url"] + "/identity/token", data={
        "grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": v["pvs_api_key"]}).json()
    headers["Authorization"] = "Bearer " + tok["access_token"]
    body = {"imageName": "direct", "bucketName": v["cos_bucket"], "imageFilename": ova, "region": v["cos_region"],
            "accessKey": v["cos_access_key_id"], "secretKey": v["cos_secret_access_key"]}
    ref = requests.post(base + "/cos-images", json=body, headers=headers)
    assert ref.status_code == 202
    assert requests.post(base + "/cos-images", json=body, headers=headers).status_code == 409
    job_id = ref.json()["id"]
    deadline = time.time() + 30
    while requests.get(base + "/jobs/" + job_id, headers=headers).json()["status"]["state"] != "completed":
        assert time.time() < deadline
        time.sleep(0.2)
    assert [j["id"] for j in requests.get(base + "/jobs", headers=headers).json()["jobs"]] == [job_id]
    image_id = requests.get(base + "/images", headers=headers).json()["images"][0]["imageID"]
    assert requests.delete(base + "/images/" + image_id, headers=headers).status_code == 200
    gone = requests.get(base + "/images/" + image_id, headers=headers)
    assert gone.status_code == 404 and set(gone.json()) == {"code", "description", "error", "message"}
    assert requests.delete(base + "/jobs/" + job_id, headers=headers).status_code == 200
    assert requests.get(base + "/jobs/" + job_id, headers=headers).status_code == 404
