import datetime

import pytest
import responses

from ansible_collections.vmimport.migrate.plugins.module_utils import powervs as pv
from ansible_collections.vmimport.migrate.tests.unit.pvs_fake import (
    ACCOUNT, API_KEY, CRN, ENDPOINT, WORKSPACE, ZONE, FakePowerVS, conn_args)


# --- endpoint, CRN, connection ------------------------------------------------------------

@pytest.mark.parametrize("zone, region", [("lon04", "lon"), ("dal10", "dal"), ("eu-de-1", "eu-de"),
                                          ("us-east", "us-east"), ("tok04", "tok"), ("us-south", "us-south"),
                                          ("mad02", "mad"), ("sao01", "sao")])
def test_region_from_zone(zone, region):
    assert pv.region_from_zone(zone) == region


def test_default_endpoint_public_and_private():
    assert pv.default_endpoint("lon04") == "https://lon.power-iaas.cloud.ibm.com"
    assert pv.default_endpoint("eu-de-1", private=True) == "https://private.eu-de.power-iaas.cloud.ibm.com"


def test_crn_round_trip():
    crn = pv.build_crn("lon04", "abc", "guid-1")
    assert crn == "crn:v1:bluemix:public:power-iaas:lon04:a/abc:guid-1::"
    assert pv.parse_crn(crn) == {"zone": "lon04", "account_id": "abc", "cloud_instance_id": "guid-1"}


@pytest.mark.parametrize("bad", ["", "crn:v1:bluemix:public:is:lon04:a/abc:guid::", "crn:v1:bluemix:public:power-iaas:lon04:abc:guid::"])
def test_parse_crn_refuses_other_crns(bad):
    with pytest.raises(pv.PowerVSValidationError, match="not a Power Virtual Server workspace CRN"):
        pv.parse_crn(bad)


def test_resolve_connection_builds_crn_and_endpoint():
    c = pv.resolve_connection(conn_args(iam_url="https://iam.example/identity/token"))
    assert c["crn"] == CRN
    assert c["endpoint"] == ENDPOINT
    assert c["iam_url"] == "https://iam.example"


def test_resolve_connection_from_crn_only():
    c = pv.resolve_connection({"api_key": "k", "crn": CRN, "endpoint_url": "127.0.0.1:8080/"})
    assert (c["zone"], c["account_id"], c["cloud_instance_id"]) == (ZONE, ACCOUNT, WORKSPACE)
    assert c["endpoint"] == "https://127.0.0.1:8080"


def test_resolve_connection_crn_must_agree():
    with pytest.raises(pv.PowerVSValidationError, match="zone 'dal10' does not match the crn"):
        pv.resolve_connection({"api_key": "k", "crn": CRN, "zone": "dal10"})


def test_resolve_connection_names_missing_options():
    with pytest.raises(pv.PowerVSValidationError, match="missing zone, cloud_instance_id"):
        pv.resolve_connection({"api_key": "k", "account_id": "a"})


def test_argument_spec_secret_and_env_fallback():
    spec = pv.powervs_argument_spec()
    assert spec["api_key"]["no_log"] is True
    assert spec["api_key"]["fallback"][1] == ["IBMCLOUD_API_KEY", "IC_API_KEY"]
    assert spec["iam_url"]["default"] == "https://iam.cloud.ibm.com"


# --- body -------------------------------------------------------------------------------------

def params(**kw):
    p = dict(image_name="img", bucket_name="my-bucket", image_filename="img.ova", cos_region="us-east",
             access_key="AK", secret_key="SK", bucket_access="private")
    p.update(kw)
    return p


def test_body_every_field():
    body, warnings = pv.build_cos_import_body(params(
        bucket_name="my-bucket/some/folder", os_type="aix", storage_type="tier1", storage_pool="Tier1-Flash-1",
        storage_affinity=dict(affinity_policy="affinity", affinity_pvm_instance="vm1"),
        import_details=dict(license_type="byol", product="Hana", vendor="SAP"),
        checksum=True, user_tags=["a", "b"]), "satloc-dal-c1")
    assert body == {
        "imageName": "img", "bucketName": "my-bucket/some/folder", "imageFilename": "img.ova", "region": "us-east",
        "bucketAccess": "private", "accessKey": "AK", "secretKey": "SK", "osType": "aix", "storageType": "tier1",
        "storagePool": "Tier1-Flash-1",
        "storageAffinity": {"affinityPolicy": "affinity", "affinityPVMInstance": "vm1"},
        "importDetails": {"licenseType": "byol", "product": "Hana", "vendor": "SAP"},
        "checksum": True, "userTags": ["a", "b"]}
    assert warnings == ["storage_pool is set, so PowerVS ignores storage_affinity"]


def test_body_minimal_public_bucket_has_no_keys():
    body = pv.build_cos_import_body(params(bucket_access="public", access_key=None, secret_key=None), "lon04")[0]
    assert body == {"imageName": "img", "bucketName": "my-bucket", "imageFilename": "img.ova",
                    "region": "us-east", "bucketAccess": "public"}


@pytest.mark.parametrize("kw, zone, match", [
    (dict(os_type="windows"), "lon04", "os_type 'windows' is not one of aix, ibmi, rhel, sles"),
    (dict(cos_region="mars-1"), "lon04", "cos_region 'mars-1' is not a COS region"),
    (dict(checksum=True), "lon04", "checksum is only supported on on-premises"),
    (dict(image_filename="disk.raw"), "lon04", "raw image, which needs os_type"),
    (dict(secret_key=None), "lon04", "bucket_access=private needs the COS HMAC keys"),
    (dict(bucket_name="My_Bucket"), "lon04", "not a valid COS bucket name"),
    (dict(bucket_name="192.168.1.10"), "lon04", "not a valid COS bucket name"),
    (dict(bucket_name="ab"), "lon04", "not a valid COS bucket name"),
    (dict(bucket_name="a" * 64), "lon04", "not a valid COS bucket name"),
    (dict(bucket_name="bad..name"), "lon04", "not a valid COS bucket name"),
    (dict(bucket_name="bucket//x"), "lon04", "empty segments"),
    (dict(image_name="  "), "lon04", "image_name is required"),
    (dict(image_filename="/abs.ova"), "lon04", "without a leading '/'"),
    (dict(storage_affinity=dict(affinity_policy="affinity")), "lon04", "needs affinity_pvm_instance or affinity_volume"),
    (dict(storage_affinity=dict(affinity_policy="anti-affinity")), "lon04", "needs anti_affinity_pvm_instances"),
    (dict(storage_affinity=dict(affinity_volume="v")), "lon04", "needs affinity_policy"),
    (dict(import_details=dict(license_type="byol", product="Db2", vendor="SAP")), "lon04", "import_details.product 'Db2'"),
    (dict(import_details=dict(license_type="byol", vendor="SAP")), "lon04", "import_details.product is required"),
    (dict(user_tags=["ok", ""]), "lon04", "user_tags must be a list of non-empty strings"),
])
def test_body_refused_before_any_call(kw, zone, match):
    with pytest.raises(pv.PowerVSValidationError, match=match):
        pv.build_cos_import_body(params(**kw), zone)


@pytest.mark.parametrize("name", ["x.ova", "x.OVA.gz", "x.tar", "x.tar.gz", "x.tgz"])
def test_archives_need_no_os_type(name):
    body = pv.build_cos_import_body(params(image_filename=name), "lon04")[0]
    assert "osType" not in body


def test_raw_image_with_os_type_is_accepted():
    body = pv.build_cos_import_body(params(image_filename="disk.raw", os_type="ibmi"), "lon04")[0]
    assert body["osType"] == "ibmi"


def test_mask_body_hides_only_the_secret():
    body = {"accessKey": "AK", "secretKey": "SK", "imageName": "i"}
    shown = pv.mask_body(body)
    assert shown == {"accessKey": "AK", "secretKey": "********", "imageName": "i"}
    assert body["secretKey"] == "SK"


# --- states, polling, selection -----------------------------------------------------------

@pytest.mark.parametrize("state", ["queued", "readyForProcessing", "inProgress", "running", "waiting", "somethingNew", ""])
def test_every_other_state_is_pending(state):
    assert pv.classify_state(state) == "pending"


def test_final_states():
    assert pv.classify_state("completed") == "completed"
    assert pv.classify_state("failed") == "failed"
    assert pv.is_known_state("waiting") and not pv.is_known_state("somethingNew")


def test_poll_delays_grow_to_cap():
    gen = pv.poll_delays(10, 60)
    assert [round(next(gen), 2) for dummy in range(7)] == [10, 15, 22.5, 33.75, 50.62, 60, 60]


def test_backoff_delay_honours_retry_after_and_caps():
    assert pv.backoff_delay(0, retry_after=7) == 7
    assert pv.backoff_delay(0, retry_after=10000) == 300
    assert pv.backoff_delay(2, rand=lambda: 0.5) == 4.0
    assert pv.backoff_delay(20, rand=lambda: 1.0) == 30 * 1.25


def test_parse_retry_after():
    assert pv.parse_retry_after("3") == 3.0
    assert pv.parse_retry_after(None) is None
    assert pv.parse_retry_after("soon") is None
    now = datetime.datetime(2026, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
    assert pv.parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30.0


def test_parse_timestamp_variants():
    base = pv.parse_timestamp("2026-01-01T00:00:00Z")
    assert base == 1767225600.0
    assert pv.parse_timestamp("2026-01-01T00:00:00.500Z") == base + 0.5
    assert pv.parse_timestamp("2026-01-01T01:00:00+01:00") == base
    assert pv.parse_timestamp("garbage") == 0.0


def test_select_image_newest_with_warning():
    images = [{"imageID": "a", "name": "n", "creationDate": "2026-01-01T00:00:00.000Z"},
              {"imageID": "b", "name": "n", "creationDate": "2026-02-01T00:00:00.000Z"},
              {"imageID": "c", "name": "other", "creationDate": "2026-03-01T00:00:00.000Z"}]
    newest, matches, warning = pv.select_image(images, "n")
    assert newest["imageID"] == "b"
    assert [m["imageID"] for m in matches] == ["b", "a"]
    assert "2 images are named 'n'" in warning and "using the newest, b" in warning
    assert pv.select_image(images, "c") == (None, [], None)
    assert pv.select_image(images, "other")[2] is None


def test_job_matches_by_name_or_time():
    job = {"operation": {"action": "imageImport", "target": "image", "id": "img"},
           "createTimestamp": "2026-01-01T00:10:00.000Z"}
    assert pv.job_matches(job, "img")
    assert not pv.job_matches(job, "other")
    t = pv.parse_timestamp("2026-01-01T00:10:00Z")
    assert pv.job_matches(job, None, since=t + 60)       # within clock skew
    assert not pv.job_matches(job, None, since=t + 600)  # older than our POST: not ours


def test_api_error_text_for_both_services():
    assert pv.api_error_text({"code": 0, "description": "cloud instance x not found", "error": "not found",
                              "message": ""}) == "cloud instance x not found"
    assert pv.api_error_text({"code": 605, "description": "d", "error": "e", "message": "m"}) == "d; m (code 605)"
    assert pv.api_error_text({"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found"}) == \
        "BXNIM0415E Provided API key could not be found"
    assert pv.api_error_text({"error": "conflict"}) == "conflict"


def test_hints_name_what_to_fix():
    ctx = {"cloud_instance_id": "ws", "zone": "lon04", "account_id": "acct", "endpoint": "https://x"}
    assert "api_key" in pv.hint_for(401, "/images", ctx)
    assert "account_id" in pv.hint_for(403, "/images", ctx)
    assert "cloud_instance_id" in pv.hint_for(404, "/images", ctx)
    assert "gone" in pv.hint_for(404, "/jobs/123", ctx)
    assert "one import" not in pv.hint_for(409, "/cos-images", ctx) and "wait=true" in pv.hint_for(409, "/cos-images", ctx)
    assert "retries" in pv.hint_for(503, "/images", ctx)


class Clock(object):
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(s)
        self.t += s


def scripted(states):
    states = list(states)

    def get(job_id):
        state = states.pop(0) if len(states) > 1 else states[0]
        return {"id": job_id, "status": {"state": state, "message": "boom" if state == "failed" else ""}}
    return get


def test_wait_for_job_every_pending_state_then_completed():
    clock = Clock()
    seen_changes = []
    states = ["queued", "readyForProcessing", "readyForProcessing", "inProgress", "running", "waiting", "running", "completed"]
    job, seen = pv.wait_for_job(scripted(states), "j", 3600, poll_start=10, poll_cap=60,
                                sleep=clock.sleep, clock=clock, on_change=seen_changes.append)
    assert job["status"]["state"] == "completed"
    assert seen == ["queued", "readyForProcessing", "inProgress", "running", "waiting", "running", "completed"]
    assert len(seen_changes) == 7
    assert clock.sleeps[:3] == [10, 15, 22.5] and max(clock.sleeps) == 60


def test_wait_for_job_failed_carries_message():
    clock = Clock()
    with pytest.raises(pv.JobFailed) as e:
        pv.wait_for_job(scripted(["queued", "failed"]), "j", 100, sleep=clock.sleep, clock=clock)
    assert str(e.value) == "boom"
    assert e.value.states_seen == ["queued", "failed"]


def test_wait_for_job_times_out_without_oversleeping():
    clock = Clock()
    with pytest.raises(pv.JobTimeout) as e:
        pv.wait_for_job(scripted(["queued"]), "j", 100, poll_start=10, poll_cap=60, sleep=clock.sleep, clock=clock)
    assert e.value.timeout == 100
    assert clock.t == 100  # the last sleep is cut to the deadline


# --- client against a fake service -----------------------------------------------------------

def client(fake_sleeps=None, **extra):
    conn = pv.resolve_connection(conn_args(**extra))
    sleeps = fake_sleeps if fake_sleeps is not None else []
    return pv.PowerVSClient(conn, sleep=sleeps.append)


def test_client_sends_token_and_crn():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.add_image("x")
        c = client()
        assert [i["name"] for i in c.list_images()] == ["x"]
        assert c.list_images()
        assert fake.token_requests == 1  # the token is cached between calls
        sent = rsps.calls[-1].request
        assert sent.headers["CRN"] == CRN and sent.headers["Authorization"].startswith("Bearer ")


def test_client_retries_429_with_retry_after():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("GET", r"^/images$", 429, {"description": "rate limit"}, headers={"Retry-After": "4"}, count=2)
        sleeps = []
        c = client(sleeps)
        assert c.list_images() == []
        assert sleeps == [4.0, 4.0]
        assert c.retried == 2


def test_client_gives_up_after_retries_with_api_text_and_hint():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("GET", r"^/images$", 500, {"description": "database on fire", "error": "internal server error"},
                   count=10)
        c = client(retries=2)
        with pytest.raises(pv.PowerVSError) as e:
            c.list_images()
        assert e.value.status == 500
        assert "database on fire" in str(e.value) and "re-run later" in str(e.value)
        assert len(fake.calls) == 3


def test_client_post_500_is_ambiguous_not_retried_blindly():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("POST", r"^/cos-images$", 502, {"description": "bad gateway"})
        c = client()
        with pytest.raises(pv.PowerVSError) as e:
            c.post_cos_import({"imageName": "x"})
        assert e.value.ambiguous and len(fake.posts()) == 1


def test_client_post_429_is_retried():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("POST", r"^/cos-images$", 429, {"description": "slow down"}, headers={"Retry-After": "1"})
        c = client()
        ref = c.post_cos_import({"imageName": "x"})
        assert ref["id"] and len(fake.posts()) == 2


def test_client_refreshes_a_refused_token_once():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        c = client()
        c.list_images()
        fake.revoked.update(fake.tokens)
        assert c.list_images() == []
        assert fake.token_requests == 2


def test_client_401_twice_names_the_api_key():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("GET", r"^/images$", 401, {"description": "token is not valid", "error": "unauthorized"}, count=5)
        with pytest.raises(pv.PowerVSError) as e:
            client().list_images()
        assert e.value.status == 401 and "check that api_key" in str(e.value)


def test_client_wrong_api_key_reports_iam_error():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakePowerVS(rsps)
        with pytest.raises(pv.PowerVSError) as e:
            client(api_key="wrong").list_images()
        msg = str(e.value)
        assert "BXNIM0415E" in msg and "Provided API key could not be found" in msg
        assert "IBMCLOUD_API_KEY" in msg and "wrong" not in msg


def test_client_unknown_workspace_hint():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakePowerVS(rsps)
        with pytest.raises(pv.PowerVSError) as e:
            client(cloud_instance_id="nope", crn=None).list_images()
        # the CRN names "nope" too, so the fake answers 403 (CRN not allowed): account/zone hint
        assert e.value.status == 403 and "account_id (or crn) and zone" in str(e.value)


def test_client_no_answer_is_an_error_naming_the_endpoint():
    conn = pv.resolve_connection(conn_args(endpoint_url="http://127.0.0.1:9", iam_url="http://127.0.0.1:9"))
    c = pv.PowerVSClient(conn, sleep=lambda s: None)
    conn["retries"] = 0
    c.retries = 0
    with pytest.raises(pv.PowerVSError) as e:
        c.list_images()
    assert "cannot reach IAM at http://127.0.0.1:9/identity/token" in str(e.value)


def test_last_import_job_none_when_there_is_none():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        c = client()
        assert c.last_import_job() is None
        fake.add_job("img", ["running"])
        assert c.last_import_job()["operation"]["id"] == "img"


# --- the import workflow -------------------------------------------------------------------------

def test_start_adopts_own_job_after_gateway_timeout():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("POST", r"^/cos-images$", 504, {"description": "gateway timeout"}, create_job=True)
        imp = pv.CosImageImport(client(), {"imageName": "img"})
        ref, adopted = imp.start()
        assert adopted and ref["id"] == fake.job_order[-1]
        assert len(fake.posts()) == 1


def test_start_posts_again_when_the_500_started_nothing():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.force("POST", r"^/cos-images$", 500, {"description": "oops"})
        imp = pv.CosImageImport(client(), {"imageName": "img"})
        _ref, adopted = imp.start()
        assert not adopted and len(fake.posts()) == 2 and len(fake.jobs) == 1


def test_start_409_waits_on_own_job_but_not_on_anothers():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        mine = fake.add_job("img", ["running"])
        ref, adopted = pv.CosImageImport(client(), {"imageName": "img"}).start()
        assert adopted and ref["id"] == mine
        with pytest.raises(pv.PowerVSError) as e:
            pv.CosImageImport(client(), {"imageName": "other"}).start()
        assert e.value.status == 409


def test_wait_on_own_job_whose_record_vanished():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        imp = pv.CosImageImport(client(), {"imageName": "img"})
        with pytest.raises(pv.PowerVSError, match="is gone"):
            imp.wait("no-such-job", 10, poll_start=0)
        fake.add_image("img")
        _job, seen = imp.wait("no-such-job", 10, poll_start=0)
        assert seen == ["completed"]


def test_api_key_only_goes_to_iam():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        client().post_cos_import({"imageName": "img", "secretKey": "s"})
        assert fake.last_body == {"imageName": "img", "secretKey": "s"}
        for call in rsps.calls:
            req = call.request
            body = req.body.decode() if isinstance(req.body, bytes) else (req.body or "")
            in_request = API_KEY in body or any(API_KEY in v for v in req.headers.values())
            assert in_request == req.url.endswith("/identity/token"), req.url
