import pytest
import responses

from ansible_collections.vmimport.migrate.plugins.module_utils import powervs as pv
from ansible_collections.vmimport.migrate.plugins.modules import pvs_image_import
from ansible_collections.vmimport.migrate.tests.unit.pvs_fake import API_KEY, FakePowerVS, conn_args
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

ALL_PENDING = ["queued", "readyForProcessing", "inProgress", "running", "waiting"]


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(pv.time, "sleep", slept.append)
    return slept


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakePowerVS(rsps)


def args(**kw):
    a = conn_args(image_name="rhel93", bucket_name="vmimport-images", image_filename="rhel93.ova",
                  cos_region="us-east", access_key="HMACID", secret_key="HMACSECRET", poll_interval=0.01,
                  poll_max_interval=0.01)
    a.update(kw)
    return a


def test_imports_and_walks_every_pending_state(fake):
    fake.next_script = ALL_PENDING + ["completed"]
    res = run_module(pvs_image_import, args(storage_type="tier1", user_tags=["t1"]))
    assert res["changed"] is True and res["adopted"] is False
    assert res["states_seen"] == ALL_PENDING + ["completed"]
    assert res["image"]["name"] == "rhel93" and res["image"]["size"] == 20
    assert res["job"]["state"] == "completed" and res["job"]["id"] == fake.job_order[-1]
    assert res["body"]["secretKey"] == "********" and res["body"]["accessKey"] == "HMACID"
    assert fake.last_body["secretKey"] == "HMACSECRET"
    assert fake.last_body["storageType"] == "tier1" and fake.last_body["userTags"] == ["t1"]
    assert len(fake.posts()) == 1


def test_second_run_is_no_change(fake):
    fake.add_image("rhel93")
    res = run_module(pvs_image_import, args())
    assert res["changed"] is False and res["image"]["name"] == "rhel93" and res["job"] is None
    assert fake.posts() == []


def test_several_images_with_the_name_take_newest_and_warn(fake, monkeypatch):
    warnings = []
    monkeypatch.setattr(pvs_image_import.AnsibleModule, "warn", lambda self, w: warnings.append(w))
    fake.add_image("rhel93", created="2026-01-01T00:00:00.000Z", image_id="old")
    fake.add_image("rhel93", created="2026-02-01T00:00:00.000Z", image_id="new")
    res = run_module(pvs_image_import, args())
    assert res["image"]["imageID"] == "new" and res["changed"] is False
    assert any("2 images are named 'rhel93'" in w for w in warnings)


def test_check_mode_absent_shows_masked_body_and_posts_nothing(fake):
    res = run_module(pvs_image_import, args(), check_mode=True)
    assert res["changed"] is True
    assert res["body"] == {"imageName": "rhel93", "bucketName": "vmimport-images", "imageFilename": "rhel93.ova",
                           "region": "us-east", "bucketAccess": "private", "accessKey": "HMACID",
                           "secretKey": "********"}
    assert fake.posts() == []


def test_check_mode_present_is_no_change(fake):
    fake.add_image("rhel93")
    res = run_module(pvs_image_import, args(), check_mode=True)
    assert res["changed"] is False and fake.posts() == []


def test_running_job_for_the_image_is_waited_on_not_duplicated(fake):
    job_id = fake.add_job("rhel93", ["inProgress", "running", "completed"])
    res = run_module(pvs_image_import, args())
    assert res["adopted"] is True and res["changed"] is True
    assert res["job"]["id"] == job_id and res["image"]["name"] == "rhel93"
    assert fake.posts() == [] and res.get("body") is None


def test_wait_false_returns_job_id_then_rerun_waits_on_it(fake):
    fake.next_script = ["queued", "queued", "running", "completed"]
    first = run_module(pvs_image_import, args(wait=False))
    assert first["changed"] is True and first["job"]["id"] and first["image"] is None
    second = run_module(pvs_image_import, args(wait=False))
    assert second["changed"] is False and second["adopted"] is True and second["job"]["id"] == first["job"]["id"]
    third = run_module(pvs_image_import, args())
    assert third["job"]["id"] == first["job"]["id"] and third["image"]["name"] == "rhel93"
    assert len(fake.posts()) == 1


def test_409_for_own_job_is_adopted(fake):
    # the job appears between our look and our POST (another run of the same task)
    fake.force("POST", r"^/cos-images$", 409, {"description": "image import job is still active", "error": "conflict"},
               create_job=True)
    res = run_module(pvs_image_import, args())
    assert res["adopted"] is True and res["image"]["name"] == "rhel93"
    assert len(fake.jobs) == 1


def test_gateway_timeout_on_post_does_not_start_a_second_job(fake):
    fake.force("POST", r"^/cos-images$", 504, {"description": "gateway timeout"}, create_job=True)
    res = run_module(pvs_image_import, args())
    assert res["changed"] is True and res["image"]["name"] == "rhel93"
    assert len(fake.posts()) == 1 and len(fake.jobs) == 1


def test_429_and_500_are_retried(fake):
    fake.force("GET", r"^/images$", 429, {"description": "rate limit"}, headers={"Retry-After": "1"}, count=2)
    fake.force("GET", r"^/jobs/", 500, {"description": "oops"}, count=1)
    res = run_module(pvs_image_import, args())
    assert res["changed"] is True and res["retries"] == 3


def test_failed_job_fails_with_its_message(fake):
    fake.fail_message = ("imageImport operation failed::download of image file rhel93.ova has failed, "
                         "error:file rhel93.ova not found")
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args())
    msg = e.value.result["msg"]
    assert "error:file rhel93.ova not found" in msg
    assert "check bucket_name, image_filename and cos_region" in msg
    assert e.value.result["job"]["state"] == "failed"


def test_access_denied_job_points_to_hmac_keys(fake):
    fake.fail_message = "imageImport operation failed::download of image file x has failed, error:Access Denied"
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args())
    assert "check access_key and secret_key" in e.value.result["msg"]


def test_timeout_says_the_job_goes_on(fake):
    fake.next_script = ["queued"]
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(wait_timeout=0))
    assert "still queued after wait_timeout=0s" in e.value.result["msg"]
    assert "run the task again to wait on it" in e.value.result["msg"]


def test_another_import_active_without_wait_fails_clearly(fake):
    other = fake.add_job("someone-else", ["running"])
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(wait=False))
    assert other in e.value.result["msg"] and "one import at a time" in e.value.result["msg"]
    assert fake.posts() == []


def test_another_import_active_is_waited_for_then_ours_starts(fake):
    fake.add_job("someone-else", ["running", "completed"])
    res = run_module(pvs_image_import, args())
    assert res["changed"] is True and res["adopted"] is False and len(fake.posts()) == 1
    assert res["image"]["name"] == "rhel93"


@pytest.mark.parametrize("kw, match", [
    (dict(os_type="windows"), "value of os_type must be one of"),
    (dict(cos_region="mars"), "value of cos_region must be one of"),
    (dict(checksum=True), "checksum is only supported on on-premises"),
    (dict(bucket_name="Bad_Bucket"), "not a valid COS bucket name"),
    (dict(image_filename="disk.img"), "needs os_type"),
    (dict(secret_key=None), "bucket_access=private needs the COS HMAC keys"),
])
def test_bad_input_fails_before_any_call(fake, kw, match):
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(**kw))
    assert match in e.value.result["msg"]
    assert fake.calls == [] and fake.token_requests == 0


def test_wrong_api_key_is_a_clear_error(fake):
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(api_key="not-the-key"))
    msg = e.value.result["msg"]
    assert "IAM refused the API key" in msg and "BXNIM0415E" in msg and "not-the-key" not in msg


def test_unknown_workspace_is_a_clear_error(fake):
    fake.crn = pv.build_crn("lon04", "acct0123", "other-ws")
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(cloud_instance_id="other-ws"))
    msg = e.value.result["msg"]
    assert "HTTP 404" in msg and "cloud instance not found" in msg and "Check cloud_instance_id" in msg


def test_api_key_from_environment(fake, monkeypatch):
    monkeypatch.setenv("IBMCLOUD_API_KEY", API_KEY)
    a = args()
    del a["api_key"]
    fake.add_image("rhel93")
    assert run_module(pvs_image_import, a)["changed"] is False


def test_crn_instead_of_account(fake):
    a = args(crn=fake.crn)
    for k in ("zone", "account_id", "cloud_instance_id"):
        del a[k]
    fake.add_image("rhel93")
    assert run_module(pvs_image_import, a)["changed"] is False


def test_account_or_crn_required(fake):
    a = args()
    del a["account_id"]
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, a)
    assert "one of the following is required: account_id, crn" in e.value.result["msg"]


@pytest.mark.parametrize("kw, match", [
    (dict(poll_interval=0), "poll_interval must be above 0"),
    (dict(poll_interval=5, poll_max_interval=1), "poll_max_interval at least poll_interval"),
    (dict(wait_timeout=-1), "wait_timeout must be 0 or more"),
    (dict(timeout=0), "timeout must be a number of seconds above 0"),
    (dict(retries=-2), "retries must be 0 or more"),
])
def test_bad_timing_options(fake, kw, match):
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_import, args(**kw))
    assert match in e.value.result["msg"] and fake.calls == []


def test_check_mode_with_another_import_active_predicts_change(fake, monkeypatch):
    warnings = []
    monkeypatch.setattr(pvs_image_import.AnsibleModule, "warn", lambda self, w: warnings.append(w))
    other = fake.add_job("someone-else", ["running"])
    res = run_module(pvs_image_import, args(), check_mode=True)
    assert res["changed"] is True and res["body"]["imageName"] == "rhel93"
    assert any(other in w and "would wait for it first" in w for w in warnings)
    assert fake.posts() == []


def test_check_mode_with_own_job_running_reports_it(fake):
    job_id = fake.add_job("rhel93", ["running"])
    res = run_module(pvs_image_import, args(), check_mode=True)
    assert res["changed"] is True and res["job"]["id"] == job_id and fake.posts() == []


def test_every_body_option_reaches_the_service(fake):
    run_module(pvs_image_import, args(
        bucket_name="vmimport-images/folder", image_filename="disk.raw", os_type="ibmi", storage_type="tier0",
        storage_affinity=dict(affinity_policy="anti-affinity", anti_affinity_volumes=["v1", "v2"]),
        import_details=dict(license_type="byol", product="Netweaver", vendor="SAP"), user_tags=["a"]))
    assert fake.last_body == {
        "imageName": "rhel93", "bucketName": "vmimport-images/folder", "imageFilename": "disk.raw",
        "region": "us-east", "bucketAccess": "private", "accessKey": "HMACID", "secretKey": "HMACSECRET",
        "osType": "ibmi", "storageType": "tier0",
        "storageAffinity": {"affinityPolicy": "anti-affinity", "antiAffinityVolumes": ["v1", "v2"]},
        "importDetails": {"licenseType": "byol", "product": "Netweaver", "vendor": "SAP"}, "userTags": ["a"]}
