"""cos_object through run_module, with the in-memory COS client."""

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cos
from ansible_collections.vmimport.migrate.plugins.modules import cos_object
from ansible_collections.vmimport.migrate.tests.unit.cos_fake import FakeCos
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

AUTH = {"endpoint_url": "http://127.0.0.1:9", "access_key_id": "AKID", "secret_access_key": "s3cr3t"}


@pytest.fixture
def fake(monkeypatch):
    f = FakeCos(buckets=("bkt",))
    monkeypatch.setattr(cos, "build_client", lambda params, max_pool_connections=10: f)
    f.put("bkt", "a.ova", b"hello", meta={"sha256": "ab" * 32, "image": "rhel9"})
    return f


def run(check_mode=False, **kw):
    a = dict(AUTH, bucket="bkt", key="a.ova")
    a.update(kw)
    return run_module(cos_object, a, check_mode=check_mode)


def test_head(fake):
    res = run()
    assert not res["changed"] and res["exists"] and res["size"] == 5 and res["sha256"] == "ab" * 32
    assert res["metadata"] == {"sha256": "ab" * 32, "image": "rhel9"}
    assert res["etag"] == "5d41402abc4b2a76b9719d911017c592" and res["last_modified"].startswith("2026-01-02")
    missing = run(key="nope")
    assert not missing["changed"] and not missing["exists"] and "size" not in missing


def test_absent_is_idempotent(fake):
    res = run(state="absent", check_mode=True)
    assert res["changed"] and ("bkt", "a.ova") in fake.objects
    res = run(state="absent")
    assert res["changed"] and res["exists"] and ("bkt", "a.ova") not in fake.objects
    assert not run(state="absent")["changed"]


def test_missing_bucket_is_not_a_missing_object(fake):
    with pytest.raises(ModuleFail) as ei:
        run(bucket="gone-bucket")
    assert "bucket 'gone-bucket' does not exist" in ei.value.result["msg"]


def test_wrong_keys(fake):
    fake.fail["list_objects_v2"] = [(lambda kw: True, "InvalidAccessKeyId")]
    with pytest.raises(ModuleFail) as ei:
        run(state="absent")
    assert "check the HMAC keys" in ei.value.result["msg"]
    assert ("bkt", "a.ova") in fake.objects


def test_no_credentials(fake, monkeypatch):
    for v in ("COS_HMAC_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "COS_HMAC_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY",
              "COS_API_KEY", "IBMCLOUD_API_KEY", "IC_API_KEY"):
        monkeypatch.delenv(v, raising=False)
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_object, {"endpoint_url": "http://127.0.0.1:9", "bucket": "bkt", "key": "a.ova"})
    assert "no COS credentials" in ei.value.result["msg"]
