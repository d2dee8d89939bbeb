"""Unit tests of plugins/module_utils/cos.py: plain logic, client options, errors, the upload."""

import base64
import hashlib
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ibm_botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from ansible_collections.vmimport.migrate.plugins.module_utils import cos
from ansible_collections.vmimport.migrate.plugins.module_utils.cos import GiB, MiB
from ansible_collections.vmimport.migrate.tests.unit.cos_fake import FakeCos, client_error

# ---------------------------------------------------------------------------
# sizes, ages, names, endpoints
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    (5242880, 5242880), ("5242880", 5242880), ("16MiB", 16 * MiB), ("16M", 16 * MiB), ("16mb", 16 * MiB),
    ("1G", GiB), ("1 GiB", GiB), ("512KiB", 512 * 1024), ("2T", 2 * 1024 * GiB),
])
def test_parse_size(value, expected):
    assert cos.parse_size(value) == expected


@pytest.mark.parametrize("value", ["", "16 parsecs", "-5M", "1.5G", True, "M"])
def test_parse_size_rejects(value):
    with pytest.raises(ValueError):
        cos.parse_size(value)


@pytest.mark.parametrize("value,expected", [
    (0, 0), ("0", 0), (3600, 3600), ("3600", 3600), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
    ("1w", 604800), ("1d12h", 129600), ("1h 30m", 5400), ("2H", 7200),
])
def test_parse_age(value, expected):
    assert cos.parse_age(value) == expected


@pytest.mark.parametrize("value", ["", "2 hours", "h", "1x", "-1", -5, "1d-2h", True])
def test_parse_age_rejects(value):
    with pytest.raises(ValueError):
        cos.parse_age(value)


@pytest.mark.parametrize("name", ["abc", "vmimport-images", "a.b.c", "a" * 63, "1bucket", "my-bucket.2026"])
def test_bucket_names_ok(name):
    assert cos.bucket_name_error(name) is None


@pytest.mark.parametrize("name,fragment", [
    ("ab", "3 to 63"), ("a" * 64, "3 to 63"), ("Images", "lowercase"), ("my_bucket", "lowercase"),
    ("-abc", "start and end"), ("abc-", "start and end"), ("a..b", "'..'"), ("a.-b", "'.-'"),
    ("192.168.1.10", "IP address"), ("", "required"), ("bad name", "lowercase"),
])
def test_bucket_names_refused(name, fragment):
    msg = cos.bucket_name_error(name)
    assert msg and fragment in msg


def test_region_endpoints():
    assert cos.region_endpoint("us-south") == "https://s3.us-south.cloud-object-storage.appdomain.cloud"
    assert cos.region_endpoint("eu-de", "private") == "https://s3.private.eu-de.cloud-object-storage.appdomain.cloud"
    assert cos.region_endpoint("us", "direct") == "https://s3.direct.us.cloud-object-storage.appdomain.cloud"
    with pytest.raises(ValueError):
        cos.region_endpoint("us-south", "secret")


def test_resolve_endpoint():
    assert cos.resolve_endpoint({"endpoint_url": "http://127.0.0.1:9000/"}) == "http://127.0.0.1:9000"
    assert cos.resolve_endpoint({"endpoint_url": "http://127.0.0.1:9000", "region": "nowhere"}) == "http://127.0.0.1:9000"
    assert cos.resolve_endpoint({"region": "jp-tok", "endpoint_type": "direct"}) == \
        "https://s3.direct.jp-tok.cloud-object-storage.appdomain.cloud"
    with pytest.raises(cos.CosError, match="unknown COS region 'us-middle'.*give endpoint_url"):
        cos.resolve_endpoint({"region": "us-middle"})
    with pytest.raises(cos.CosError, match="set endpoint_url, or region"):
        cos.resolve_endpoint({})
    with pytest.raises(cos.CosError, match="not an http"):
        cos.resolve_endpoint({"endpoint_url": "s3.us-south.cloud-object-storage.appdomain.cloud"})


def test_auth_mode():
    assert cos.auth_mode({"access_key_id": "a", "secret_access_key": "b"}) == "hmac"
    assert cos.auth_mode({"access_key_id": "a", "secret_access_key": "b", "api_key": "k"}) == "hmac"
    assert cos.auth_mode({"api_key": "k"}) == "iam"
    with pytest.raises(cos.CosError, match="needs both.*only access_key_id is set"):
        cos.auth_mode({"access_key_id": "a"})
    with pytest.raises(cos.CosError, match="no COS credentials"):
        cos.auth_mode({})


# ---------------------------------------------------------------------------
# part planning, ETags, resume matching
# ---------------------------------------------------------------------------

def test_plan_part_size_keeps_the_configured_size():
    assert cos.plan_part_size(4 * GiB, 16 * MiB) == 16 * MiB
    assert cos.plan_part_size(0, 5 * MiB) == 5 * MiB
    assert cos.plan_part_size(10000 * 16 * MiB, 16 * MiB) == 16 * MiB


def test_plan_part_size_grows_for_10000_parts():
    # 100 GiB with 5 MiB parts would need 20,480 parts: ceil(size / 10000) rounded up to a MiB
    p = cos.plan_part_size(100 * GiB, 5 * MiB)
    assert p == 11 * MiB
    assert cos.part_count(100 * GiB, p) <= 10000
    # one byte over 10,000 parts of 16 MiB
    p = cos.plan_part_size(10000 * 16 * MiB + 1, 16 * MiB)
    assert p == 17 * MiB and cos.part_count(10000 * 16 * MiB + 1, p) <= 10000
    # the largest object: 10,000 parts of 5 GiB
    assert cos.plan_part_size(10000 * 5 * GiB, 5 * MiB) == 5 * GiB


def test_plan_part_size_limits():
    with pytest.raises(ValueError, match="between 5 MiB and 5 GiB"):
        cos.plan_part_size(GiB, 4 * MiB)
    with pytest.raises(ValueError, match="between 5 MiB and 5 GiB"):
        cos.plan_part_size(GiB, 6 * GiB)
    with pytest.raises(ValueError, match="10,000 parts of 5 GiB"):
        cos.plan_part_size(10000 * 5 * GiB + 1, 5 * MiB)


def test_part_ranges():
    size, p = 12 * MiB + 5, 5 * MiB
    assert cos.part_count(size, p) == 3
    assert cos.part_range(1, size, p) == (0, p)
    assert cos.part_range(3, size, p) == (10 * MiB, 2 * MiB + 5)
    assert cos.part_count(0, p) == 1 and cos.part_range(1, 0, p) == (0, 0)


def test_in_flight_parts_bound_memory():
    assert cos.in_flight_parts(4, 16 * MiB, 16 * MiB) == 4
    # parts grown to 80 MiB: (4 + 1) x 16 MiB of buffers allows one part in flight
    assert cos.in_flight_parts(4, 80 * MiB, 16 * MiB) == 1
    assert cos.in_flight_parts(8, 32 * MiB, 16 * MiB) == 3
    assert cos.in_flight_parts(4, 5 * GiB, 16 * MiB) == 1


def test_multipart_etag_is_md5_of_part_md5s():
    parts = [b"a" * 10, b"b" * 10, b"c"]
    digests = [hashlib.md5(p).digest() for p in parts]
    assert cos.multipart_etag(digests) == hashlib.md5(b"".join(digests)).hexdigest() + "-3"
    # the well-known value for one part of b"hello"
    assert cos.multipart_etag([hashlib.md5(b"hello").digest()]) == \
        hashlib.md5(hashlib.md5(b"hello").digest()).hexdigest() + "-1"


def test_etag_helpers():
    assert cos.strip_etag('"abc"') == "abc"
    assert cos.is_plain_md5_etag('"%s"' % hashlib.md5(b"x").hexdigest())
    assert not cos.is_plain_md5_etag('"%s-2"' % hashlib.md5(b"x").hexdigest())
    assert base64.b64decode(cos.b64_md5(hashlib.md5(b"x").digest())) == hashlib.md5(b"x").digest()


def test_etag_part_sizes():
    size = 100 * MiB
    # 20 parts: 5 MiB; 13 parts: 8 MiB; 7 parts: 15 or 16 MiB
    assert cos.etag_part_sizes("x-20", size) == [5 * MiB]
    assert cos.etag_part_sizes("x-13", size) == [8 * MiB]
    assert cos.etag_part_sizes("x-7", size) == [15 * MiB, 16 * MiB]
    assert cos.etag_part_sizes("x-10", size, preferred=[10 * MiB]) == [10 * MiB]
    assert cos.etag_part_sizes("abc", size) == []
    assert cos.etag_part_sizes("x-zz", size) == []


def _parts(size, part_size, numbers, etag=lambda n: '"%032x"' % n):
    return [{"PartNumber": n, "Size": cos.part_range(n, size, part_size)[1], "ETag": etag(n)} for n in numbers]


def test_infer_part_size_from_listed_parts():
    size = 50 * MiB + 3
    assert cos.infer_part_size(_parts(size, 8 * MiB, [1, 3, 4]), size, 16 * MiB) == 8 * MiB
    # gaps and the short last part
    assert cos.infer_part_size(_parts(size, 8 * MiB, [2, 7]), size, 16 * MiB) == 8 * MiB
    # only the last part listed: the planned size is tried
    assert cos.infer_part_size(_parts(size, 16 * MiB, [4]), size, 16 * MiB) == 16 * MiB
    assert cos.infer_part_size(_parts(size, 8 * MiB, [7]), size, 16 * MiB) is None
    # parts of another file (sizes do not fit) and no parts
    assert cos.infer_part_size([{"PartNumber": 1, "Size": 6 * MiB, "ETag": "x"},
                                {"PartNumber": 2, "Size": 7 * MiB, "ETag": "y"}], size, 16 * MiB) is None
    assert cos.infer_part_size([], size, 16 * MiB) is None
    # a part number beyond the file
    assert cos.infer_part_size(_parts(size, 8 * MiB, [1]) + [{"PartNumber": 9, "Size": 8 * MiB, "ETag": "z"}],
                               size, 16 * MiB) is None


def test_resumable_parts_keep_md5_etags_that_fit():
    size = 20 * MiB
    parts = _parts(size, 8 * MiB, [1, 2, 3])
    parts[1]["ETag"] = '"%s-2"' % ("a" * 32)   # not an MD5: cannot be checked, sent again
    parts.append({"PartNumber": 4, "Size": 1, "ETag": '"%s"' % ("b" * 32)})
    assert cos.resumable_parts(parts, size, 8 * MiB) == {1: "%032x" % 1, 3: "%032x" % 3}


def test_choose_upload():
    a = dict(upload_id="a", initiated=1, resumable_bytes=10)
    b = dict(upload_id="b", initiated=2, resumable_bytes=10)
    c = dict(upload_id="c", initiated=3, resumable_bytes=0)
    best, others = cos.choose_upload([a, b, c])
    assert best is b and others == [a, c]
    assert cos.choose_upload([c]) == (None, [c])


def test_human_size():
    assert cos.human_size(512) == "512 B"
    assert cos.human_size(16 * MiB) == "16.0 MiB"
    assert cos.human_size(1.5 * GiB) == "1.5 GiB"


def test_age_seconds():
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert cos.age_seconds(now - timedelta(hours=2), now=now) == 7200
    assert cos.age_seconds(datetime(2026, 1, 1), now=now) == 86400
    assert cos.age_seconds(None) is None


# ---------------------------------------------------------------------------
# hashing
# ---------------------------------------------------------------------------

def _file(tmp_path, size, name="f.bin", seed=1):
    data = (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]
    data = bytes(bytearray((b + i) % 256 for i, b in enumerate(data[:4096]))) + data[4096:] if size > 4096 else data
    path = tmp_path / name
    path.write_bytes(data)
    return str(path), data


@pytest.mark.parametrize("size", [0, 1, 5 * MiB, 5 * MiB + 1, 12 * MiB + 77])
def test_scan_file(tmp_path, size):
    path, data = _file(tmp_path, size)
    sha, md5s = cos.scan_file(path, size, md5_part_sizes=[5 * MiB, 8 * MiB], block=3 * MiB)
    assert sha == hashlib.sha256(data).hexdigest()
    for p in (5 * MiB, 8 * MiB):
        want = [hashlib.md5(data[i:i + p]).digest() for i in range(0, max(size, 1), p)]
        assert md5s[p] == want


def test_scan_file_detects_a_short_file(tmp_path):
    path = _file(tmp_path, 100)[0]
    with pytest.raises(IOError, match="shrank"):
        cos.scan_file(path, 200)


# ---------------------------------------------------------------------------
# client options and errors
# ---------------------------------------------------------------------------

def test_client_config_for_hmac_over_http():
    kw = cos.client_config_kwargs({"retries": 3, "timeout": 100, "request_checksum_calculation": "when_required"},
                                  "http://127.0.0.1:1", "hmac", 6)
    assert kw["signature_version"] == "s3v4"
    assert kw["s3"] == {"addressing_style": "path", "payload_signing_enabled": False}
    assert kw["retries"] == {"max_attempts": 3, "mode": "standard"}
    assert kw["read_timeout"] == 100 and kw["connect_timeout"] == 60 and kw["max_pool_connections"] == 6
    assert kw["request_checksum_calculation"] == "when_required"


def test_client_config_for_iam_over_https():
    kw = cos.client_config_kwargs({"addressing_style": "virtual", "request_checksum_calculation": "when_supported"},
                                  "https://s3.us-south.cloud-object-storage.appdomain.cloud", "iam")
    assert kw["signature_version"] == "oauth"
    assert kw["s3"] == {"addressing_style": "virtual"}
    assert kw["request_checksum_calculation"] == "when_supported"


def test_build_client_hmac():
    c = cos.build_client({"endpoint_url": "http://127.0.0.1:9", "access_key_id": "AK", "secret_access_key": "SK",
                          "region": "us-east", "validate_certs": True})
    assert c.meta.endpoint_url == "http://127.0.0.1:9"
    assert c.meta.config.signature_version == "s3v4"
    assert c.meta.region_name == "us-east"
    assert c._request_signer._credentials.access_key == "AK"


def test_build_client_iam():
    c = cos.build_client({"region": "us-south", "api_key": "APIKEY", "service_instance_id": "crn:x",
                          "auth_endpoint": "http://127.0.0.1:9/identity/token"})
    assert c.meta.endpoint_url == "https://s3.us-south.cloud-object-storage.appdomain.cloud"
    assert c.meta.config.signature_version == "oauth"


class _IamRefuses(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_wrong_api_key_gives_an_iam_message():
    srv = HTTPServer(("127.0.0.1", 0), _IamRefuses)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        c = cos.build_client({"endpoint_url": "http://127.0.0.1:1", "api_key": "wrong",
                              "auth_endpoint": "http://127.0.0.1:%d/identity/token" % srv.server_port, "retries": 1})
        with pytest.raises(Exception) as ei:
            c.list_multipart_uploads(Bucket="b")
        msg = cos.describe_error(ei.value, "list", "b")
        assert "IAM did not issue a token" in msg and "check api_key" in msg and "could not be found" in msg
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("code,status,fragments", [
    ("NoSuchBucket", 404, ["bucket 'bkt' does not exist", "create it"]),
    ("SignatureDoesNotMatch", 403, ["rejected the credentials", "check the HMAC keys"]),
    ("InvalidAccessKeyId", 403, ["check the HMAC keys"]),
    ("AccessDenied", 403, ["access denied", "Writer"]),
    ("403", 403, ["access denied"]),
    ("NoSuchUpload", 404, ["no longer exists", "up-1"]),
    ("BadDigest", 400, ["Content-MD5", "run again"]),
    ("SlowDown", 503, ["SlowDown"]),
])
def test_describe_client_errors(code, status, fragments):
    msg = cos.describe_error(client_error(code, "Op", status), "upload", "bkt", "k.ova", "http://e", "up-1")
    for f in fragments:
        assert f in msg
    assert "'bkt" in msg or "bucket 'bkt'" in msg


def test_describe_connection_errors():
    msg = cos.describe_error(EndpointConnectionError(endpoint_url="https://s3.nowhere"), "upload", "b", "k",
                             "https://s3.nowhere")
    assert "cannot reach the COS endpoint https://s3.nowhere" in msg and "endpoint_url" in msg
    msg = cos.describe_error(ReadTimeoutError(endpoint_url="https://x"), "upload", "b", "k", "https://x")
    assert "did not answer in time" in msg
    assert cos.describe_error(IOError("disk gone"), "upload") == "upload failed: disk gone"


# ---------------------------------------------------------------------------
# MultipartUploader and UploadTask, against the in-memory fake
# ---------------------------------------------------------------------------

def _task(fake, path, **kw):
    kw.setdefault("part_size", 5 * MiB)
    kw.setdefault("concurrency", 3)
    return cos.UploadTask(fake, "bucket", "k.ova", path, endpoint="http://fake", **kw)


def test_uploader_sends_every_part_with_content_md5(tmp_path):
    size = 23 * MiB + 11
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    uid = fake.add_upload("bucket", "k.ova")
    up = cos.MultipartUploader(fake, "bucket", "k.ova", path, size, 5 * MiB, workers=2)
    parts, sha = up.run(uid)
    assert sha == hashlib.sha256(data).hexdigest()
    assert sorted(parts) == [1, 2, 3, 4, 5]
    for n, (digest, etag, crc) in parts.items():
        assert crc is None
        off, ln = cos.part_range(n, size, 5 * MiB)
        assert digest == hashlib.md5(data[off:off + ln]).digest()
        assert etag == '"%s"' % digest.hex()
    sent = [c[1] for c in fake.calls if c[0] == "upload_part"]
    assert all("ContentMD5" in c for c in sent)
    assert fake.max_in_flight <= 2
    assert up.progress.bytes_sent == size and up.progress.parts_sent == 5


def test_uploader_memory_is_a_fixed_pool(tmp_path, monkeypatch):
    size = 40 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()
    uid = fake.add_upload("bucket", "k.ova")
    made = []
    real = bytearray

    class Counting(bytearray):
        def __init__(self, *a):
            made.append(a)
            real.__init__(self, *a)

    monkeypatch.setattr(cos, "bytearray", Counting, raising=False)
    cos.MultipartUploader(fake, "bucket", "k.ova", path, size, 5 * MiB, workers=3).run(uid)
    # 8 parts went through 3 + 1 buffers of one part each
    assert len(made) == 4 and all(a == (5 * MiB,) for a in made)


def test_uploader_stops_on_the_first_error(tmp_path):
    size = 30 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()
    uid = fake.add_upload("bucket", "k.ova")
    fake.fail["upload_part"] = [(lambda kw: kw["PartNumber"] == 2, "InternalError")]
    with pytest.raises(cos.ClientError):
        cos.MultipartUploader(fake, "bucket", "k.ova", path, size, 5 * MiB, workers=1).run(uid)
    # one worker: parts after 2 are not sent
    assert fake.count("upload_part") <= 3


def test_upload_then_no_change(tmp_path):
    size = 17 * MiB + 3
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    res = _task(fake, path).run()
    sha = hashlib.sha256(data).hexdigest()
    assert res["changed"] and not res["resumed"] and res["bytes_sent"] == size and res["parts"] == 4
    assert res["sha256"] == sha and res["upload_id"] is None
    obj = fake.objects[("bucket", "k.ova")]
    assert obj["meta"]["sha256"] == sha and obj["size"] == size
    assert res["etag"] == cos.strip_etag(obj["etag"])
    assert not fake.uploads
    again = _task(fake, path).run()
    assert not again["changed"] and again["bytes_sent"] == 0 and again["sha256"] == sha and again["parts"] == 4


def test_no_change_with_given_sha256_does_not_read_the_file(tmp_path, monkeypatch):
    size = 12 * MiB
    path, data = _file(tmp_path, size)
    sha = hashlib.sha256(data).hexdigest()
    fake = FakeCos()
    fake.put("bucket", "k.ova", data, meta={"sha256": sha}, etag='"whatever-3"')
    monkeypatch.setattr(cos, "scan_file", lambda *a, **k: pytest.fail("the file was read"))
    monkeypatch.setattr(cos.MultipartUploader, "run", lambda *a, **k: pytest.fail("the file was read"))
    res = _task(fake, path, sha256=sha.upper()).run()
    assert not res["changed"] and res["sha256"] == sha


def test_object_of_another_tool_is_recognised_by_its_etag(tmp_path):
    size = 20 * MiB + 1
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    digests = [hashlib.md5(data[i:i + 8 * MiB]).digest() for i in range(0, size, 8 * MiB)]
    fake.put("bucket", "k.ova", data, etag='"%s"' % cos.multipart_etag(digests))   # no sha256 metadata
    res = _task(fake, path).run()
    assert not res["changed"] and res["sha256"] == hashlib.sha256(data).hexdigest()
    fake.put("bucket", "k.ova", data)                                              # plain MD5 ETag
    assert not _task(fake, path).run()["changed"]
    fake.put("bucket", "k.ova", data[:-1] + b"!", etag='"%s"' % cos.multipart_etag(digests[:-1] + [b"x" * 16]))
    assert _task(fake, path).run()["changed"]


def test_different_object_is_replaced_and_overwrite_never_keeps_it(tmp_path):
    size = 11 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    fake.put("bucket", "k.ova", b"old", meta={"sha256": "0" * 64})
    res = _task(fake, path, overwrite="never").run()
    assert not res["changed"] and "overwrite=never" in res["msg"]
    assert fake.objects[("bucket", "k.ova")]["size"] == 3
    res = _task(fake, path).run()
    assert res["changed"] and fake.objects[("bucket", "k.ova")]["size"] == size
    assert _task(fake, path, overwrite="always").run()["changed"]


def test_resume_sends_only_the_missing_parts(tmp_path):
    size = 26 * MiB + 5
    path, data = _file(tmp_path, size)
    sha = hashlib.sha256(data).hexdigest()
    fake = FakeCos()
    p = 5 * MiB
    have = {n: data[(n - 1) * p:n * p] for n in (1, 2, 4)}
    uid = fake.add_upload("bucket", "k.ova", meta={"sha256": sha}, parts=have)
    progress = tmp_path / "progress.jsonl"
    res = _task(fake, path, part_size=8 * MiB, progress_file=str(progress)).run()
    assert res["changed"] and res["resumed"] and res["part_size"] == p
    assert res["bytes_sent"] == size - 3 * p and res["parts_sent"] == 3
    sent = sorted(c[1]["PartNumber"] for c in fake.calls if c[0] == "upload_part")
    assert sent == [3, 5, 6]
    assert uid not in fake.uploads and fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == sha
    assert fake.objects[("bucket", "k.ova")]["etag"] == '"%s"' % res["etag"]
    lines = [json.loads(x) for x in progress.read_text().splitlines()]
    assert lines[0]["event"] == "start" and lines[0]["resumed"] and lines[0]["parts_present"] == 3
    assert lines[-1]["event"] == "complete" and lines[-1]["percent"] == 100.0
    assert [x["part"] for x in lines if x["event"] == "part"] != []


def test_resume_of_an_upload_for_other_data_starts_over(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    p = 5 * MiB
    old = fake.add_upload("bucket", "k.ova", meta={"sha256": "1" * 64},
                          parts={1: data[:p], 2: b"X" * p})           # part 2 differs from the file
    warnings = []
    res = _task(fake, path, warn=warnings.append).run()
    assert res["changed"] and not res["resumed"]
    assert old in res["aborted_uploads"] and not fake.uploads
    assert fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert any("did not match" in w for w in warnings)


def test_resume_with_stale_metadata_uploads_again(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    p = 5 * MiB
    # same bytes for part 1 but the upload was started for another version of the file
    fake.add_upload("bucket", "k.ova", meta={"sha256": "2" * 64}, parts={1: data[:p]})
    warnings = []
    res = _task(fake, path, warn=warnings.append).run()
    assert res["changed"] and not res["resumed"]
    assert fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert any("another version" in w for w in warnings)


def test_stale_uploads_of_the_key_are_aborted_after_success(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    empty = fake.add_upload("bucket", "k.ova")                                     # no parts
    other = fake.add_upload("bucket", "k.ova", parts={1: b"z" * (7 * MiB)})         # another part size
    mine = fake.add_upload("bucket", "k.ova", meta={"sha256": hashlib.sha256(data).hexdigest()},
                           parts={1: data[:5 * MiB]})
    unrelated = fake.add_upload("bucket", "k.ova.bak", parts={1: b"q" * (5 * MiB)})
    res = _task(fake, path).run()
    assert res["resumed"] and sorted(res["aborted_uploads"]) == sorted([empty, other])
    assert list(fake.uploads) == [unrelated] and mine not in fake.uploads


def test_resume_false_leaves_other_uploads(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    old = fake.add_upload("bucket", "k.ova", meta={"sha256": hashlib.sha256(data).hexdigest()},
                          parts={1: data[:5 * MiB]})
    res = _task(fake, path, resume=False).run()
    assert not res["resumed"] and res["bytes_sent"] == size and list(fake.uploads) == [old]


def test_failure_aborts_the_upload(tmp_path):
    size = 16 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()
    fake.fail["upload_part"] = [(lambda kw: kw["PartNumber"] == 3, "AccessDenied")]
    with pytest.raises(cos.UploadFailed) as ei:
        _task(fake, path).run()
    assert "access denied" in ei.value.msg and "aborted" in ei.value.msg and "'bucket/k.ova'" in ei.value.msg
    assert not fake.uploads and ei.value.result.get("upload_id") is None
    assert ("bucket", "k.ova") not in fake.objects


def test_failure_keeps_the_upload_for_a_resume(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    fake.fail["upload_part"] = [(lambda kw: kw["PartNumber"] == 3, "InternalError")]
    with pytest.raises(cos.UploadFailed) as ei:
        _task(fake, path, keep_on_failure=True, concurrency=1).run()
    uid = ei.value.result["upload_id"]
    assert uid in fake.uploads and "kept for a resume" in ei.value.msg
    assert ei.value.result["bytes_sent"] == 10 * MiB
    fake.fail.clear()
    res = _task(fake, path).run()
    assert res["resumed"] and res["bytes_sent"] == size - 10 * MiB and not fake.uploads
    assert fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_interruption_aborts_unless_kept(tmp_path):
    size = 16 * MiB
    path = _file(tmp_path, size)[0]
    for keep in (False, True):
        fake = FakeCos()

        def interrupt(kw):
            if kw["PartNumber"] == 2:
                raise KeyboardInterrupt("SIGTERM")

        fake.hook["upload_part"] = interrupt
        with pytest.raises(cos.UploadFailed) as ei:
            _task(fake, path, keep_on_failure=keep, concurrency=1).run()
        assert "interrupted (SIGTERM)" in ei.value.msg
        assert bool(fake.uploads) is keep


@pytest.mark.parametrize("size", [16 * MiB, 1000])
def test_wrong_sha256_option_completes_nothing_when_verified(tmp_path, size):
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    with pytest.raises(cos.UploadFailed) as ei:
        _task(fake, path, sha256="a" * 64, verify_sha256=True).run()
    assert "not the sha256 option's" in ei.value.msg and hashlib.sha256(data).hexdigest() in ei.value.msg
    assert not fake.uploads and not fake.objects


def test_given_sha256_is_trusted_and_the_file_read_once(tmp_path, monkeypatch):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    sha = hashlib.sha256(data).hexdigest()
    fake = FakeCos()
    monkeypatch.setattr(cos, "scan_file", lambda *a, **k: pytest.fail("the file was read before the upload"))
    computed = []
    real_run = cos.MultipartUploader.run

    def run(self, upload_id, existing=None, compute_sha256=True):
        computed.append(compute_sha256)
        return real_run(self, upload_id, existing, compute_sha256)

    monkeypatch.setattr(cos.MultipartUploader, "run", run)
    res = _task(fake, path, sha256=sha).run()
    assert res["changed"] and res["sha256"] == sha and computed == [False]
    assert fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == sha
    res = _task(fake, path, sha256=sha, verify_sha256=True, overwrite="always").run()
    assert res["changed"] and computed == [False, True]


def test_small_file_is_one_put(tmp_path):
    path, data = _file(tmp_path, 1000)
    fake = FakeCos()
    res = _task(fake, path).run()
    assert res["changed"] and res["parts"] == 1 and fake.count("put_object") == 1
    assert fake.count("create_multipart_upload") == 0
    assert fake.objects[("bucket", "k.ova")]["meta"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not _task(fake, path).run()["changed"]
    empty = _file(tmp_path, 0, name="empty")[0]
    assert cos.UploadTask(fake, "bucket", "empty", empty, part_size=5 * MiB).run()["size"] == 0


def test_check_mode_predicts_without_sending(tmp_path):
    size = 16 * MiB
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    res = _task(fake, path).run(check_mode=True)
    assert res["changed"] and res["bytes_to_send"] == size and not res["resumed"]
    uid = fake.add_upload("bucket", "k.ova", parts={1: data[:5 * MiB]})
    res = _task(fake, path).run(check_mode=True)
    assert res["resumed"] and res["upload_id"] == uid and res["bytes_to_send"] == size - 5 * MiB
    assert fake.count("upload_part") == 0 and fake.count("create_multipart_upload") == 0
    assert fake.count("abort_multipart_upload") == 0


def test_missing_bucket_and_bad_src(tmp_path):
    path = _file(tmp_path, 10)[0]
    with pytest.raises(cos.UploadFailed, match="bucket 'bucket' does not exist"):
        _task(FakeCos(buckets=()), path).run()
    with pytest.raises(cos.UploadFailed, match="cannot read src"):
        _task(FakeCos(), str(tmp_path / "nope")).run()
    with pytest.raises(cos.UploadFailed, match="not a regular file"):
        _task(FakeCos(), str(tmp_path)).run()


def test_file_that_shrinks_while_uploading(tmp_path):
    size = 16 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()

    def shrink(kw):
        if kw["PartNumber"] == 1:
            os.truncate(path, 6 * MiB)

    fake.hook["upload_part"] = shrink
    with pytest.raises(cos.UploadFailed, match="shrank"):
        _task(fake, path, concurrency=1).run()
    assert not fake.uploads


def test_an_object_assembled_wrong_is_deleted(tmp_path):
    size = 16 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()
    real = fake.complete_multipart_upload

    def complete(**kw):
        real(**kw)
        return {"ETag": '"%s-4"' % ("0" * 32)}

    fake.complete_multipart_upload = complete
    with pytest.raises(cos.UploadFailed) as ei:
        _task(fake, path).run()
    assert "assembled" in ei.value.msg and "was deleted" in ei.value.msg
    assert not fake.objects and not fake.uploads


def test_wrong_size_reported_after_completion(tmp_path):
    size = 16 * MiB
    path = _file(tmp_path, size)[0]
    fake = FakeCos()
    real = fake.head_object

    def head(**kw):
        resp = real(**kw)
        resp["ContentLength"] -= 1
        return resp

    fake.head_object = head
    with pytest.raises(cos.UploadFailed, match="reported %d bytes instead of %d" % (size - 1, size)):
        _task(fake, path).run()


def test_crc32_checksums_when_asked(tmp_path):
    import zlib
    size = 12 * MiB + 5
    path, data = _file(tmp_path, size)
    fake = FakeCos()
    res = _task(fake, path, crc32=True).run()
    assert res["changed"]
    creates = [c[1] for c in fake.calls if c[0] == "create_multipart_upload"]
    assert creates[0]["ChecksumAlgorithm"] == "CRC32"
    sent = dict((c[1]["PartNumber"], c[1]["ChecksumCRC32"]) for c in fake.calls if c[0] == "upload_part")
    p = 5 * MiB
    for n, crc in sent.items():
        chunk = data[(n - 1) * p:n * p]
        assert base64.b64decode(crc) == (zlib.crc32(chunk) & 0xFFFFFFFF).to_bytes(4, "big")
    done = [c[1] for c in fake.calls if c[0] == "complete_multipart_upload"][0]
    assert [x["ChecksumCRC32"] for x in done["MultipartUpload"]["Parts"]] == [sent[n] for n in (1, 2, 3)]
    small = _file(tmp_path, 100, name="small")[0]
    cos.UploadTask(fake, "bucket", "small", small, part_size=5 * MiB, crc32=True).run()
    assert [c[1] for c in fake.calls if c[0] == "put_object"][0]["ChecksumCRC32"]
