"""cos_multipart_upload through run_module, with the in-memory COS client."""

import hashlib

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cos
from ansible_collections.vmimport.migrate.plugins.modules import cos_multipart_upload
from ansible_collections.vmimport.migrate.tests.unit.cos_fake import FakeCos
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

MiB = 1024 * 1024
AUTH = {"endpoint_url": "http://127.0.0.1:9", "access_key_id": "AKID", "secret_access_key": "s3cr3t"}


@pytest.fixture
def fake(monkeypatch):
    f = FakeCos(buckets=("vmimport-images",))
    built = []

    def build(params, max_pool_connections=10):
        built.append(dict(params))
        return f

    monkeypatch.setattr(cos, "build_client", build)
    f.built = built
    return f


@pytest.fixture
def src(tmp_path):
    data = (bytes(range(251)) * (12 * MiB // 251 + 1))[:12 * MiB + 17]
    path = tmp_path / "image.ova"
    path.write_bytes(data)
    return str(path), data


def args(path, **kw):
    a = dict(AUTH, bucket="vmimport-images", key="images/image.ova", src=path, part_size="5MiB")
    a.update(kw)
    return a


def test_upload_then_no_change(fake, src):
    path, data = src
    res = run_module(cos_multipart_upload, args(path))
    sha = hashlib.sha256(data).hexdigest()
    assert res["changed"] and res["sha256"] == sha and res["parts"] == 3 and res["bytes_sent"] == len(data)
    assert res["part_size"] == 5 * MiB and not res["resumed"] and res["throughput"] > 0
    assert fake.objects[("vmimport-images", "images/image.ova")]["meta"] == {"sha256": sha}
    res = run_module(cos_multipart_upload, args(path, sha256=sha))
    assert not res["changed"] and res["bytes_sent"] == 0


def test_check_mode_sends_nothing(fake, src):
    path, data = src
    res = run_module(cos_multipart_upload, args(path), check_mode=True)
    assert res["changed"] and res["bytes_to_send"] == len(data)
    assert not fake.objects and not fake.uploads


def test_metadata_and_resume_after_kept_failure(fake, src):
    path, data = src
    fake.fail["upload_part"] = [(lambda kw: kw["PartNumber"] == 2, "InternalError")]
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, args(path, keep_on_failure=True, concurrency=1,
                                              metadata={"Image": "rhel9"}))
    assert ei.value.result["upload_id"] in fake.uploads
    fake.fail.clear()
    res = run_module(cos_multipart_upload, args(path))
    assert res["resumed"] and res["bytes_sent"] == len(data) - 5 * MiB
    assert fake.objects[("vmimport-images", "images/image.ova")]["meta"]["image"] == "rhel9"


@pytest.mark.parametrize("extra,fragment", [
    ({"bucket": "Bad_Bucket"}, "invalid bucket name: bucket name 'Bad_Bucket' may only hold lowercase"),
    ({"bucket": "10.0.0.1"}, "must not look like an IP address"),
    ({"part_size": "4MiB"}, "part_size must be between 5 MiB and 5 GiB"),
    ({"part_size": "lots"}, "part_size: expected a size"),
    ({"concurrency": 0}, "concurrency must be between 1 and 64"),
    ({"sha256": "abc"}, "sha256 must be 64 hexadecimal digits"),
    ({"endpoint_url": None, "region": "mars-1"}, "unknown COS region 'mars-1'"),
    ({"secret_access_key": None}, "needs both access_key_id and secret_access_key"),
    ({"retries": 0}, "retries must be at least 1"),
])
def test_bad_input_fails_before_any_call(fake, src, extra, fragment, monkeypatch):
    for var in ("COS_HMAC_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "COS_ENDPOINT_URL", "COS_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    a = args(src[0], **extra)
    a = dict((k, v) for k, v in a.items() if v is not None)
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, a)
    assert fragment in ei.value.result["msg"]
    assert not fake.calls and not fake.built


def test_credentials_from_the_environment(fake, src, monkeypatch):
    monkeypatch.setenv("COS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("COS_HMAC_ACCESS_KEY_ID", "envkey")
    monkeypatch.setenv("COS_HMAC_SECRET_ACCESS_KEY", "envsecret")
    res = run_module(cos_multipart_upload, dict(bucket="vmimport-images", key="k", src=src[0]))
    assert res["changed"]
    assert fake.built[0]["access_key_id"] == "envkey" and fake.built[0]["secret_access_key"] == "envsecret"


def test_missing_bucket_is_one_clear_error(fake, src):
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, args(src[0], bucket="no-such-bucket"))
    assert "bucket 'no-such-bucket' does not exist" in ei.value.result["msg"]
    assert "Traceback" not in ei.value.result["msg"]


def test_wrong_secret_is_one_clear_error(fake, src):
    fake.fail["list_multipart_uploads"] = [(lambda kw: True, "SignatureDoesNotMatch")]
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, args(src[0]))
    assert "check the HMAC keys" in ei.value.result["msg"]
    assert "s3cr3t" not in str(ei.value.result)
    assert not fake.uploads


def test_missing_sdk_is_reported(fake, src, monkeypatch):
    monkeypatch.setattr(cos, "HAS_IBM_COS", False)
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, args(src[0]))
    assert "ibm-cos-sdk" in ei.value.result["msg"]
    assert not fake.calls


def test_interrupted_before_the_upload(fake, src):
    def interrupt(kw):
        raise KeyboardInterrupt("SIGTERM")

    fake.hook["list_multipart_uploads"] = interrupt
    with pytest.raises(ModuleFail) as ei:
        run_module(cos_multipart_upload, args(src[0]))
    assert "interrupted (SIGTERM)" in ei.value.result["msg"] and "nothing to clean up" in ei.value.result["msg"]


def test_flexible_checksums_by_default_and_not_when_required(fake, src):
    res = run_module(cos_multipart_upload, args(src[0]))
    assert res["changed"]
    create = [c[1] for c in fake.calls if c[0] == "create_multipart_upload"][0]
    assert create["ChecksumAlgorithm"] == "CRC32"
    assert all("ChecksumCRC32" in c[1] for c in fake.calls if c[0] == "upload_part")
    fake.calls[:] = []
    res = run_module(cos_multipart_upload, args(src[0], key="other", request_checksum_calculation="when_required"))
    create = [c[1] for c in fake.calls if c[0] == "create_multipart_upload"][0]
    assert "ChecksumAlgorithm" not in create
    assert not any("ChecksumCRC32" in c[1] for c in fake.calls if c[0] == "upload_part")
