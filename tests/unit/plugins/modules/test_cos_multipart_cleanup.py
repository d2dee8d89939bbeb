"""cos_multipart_cleanup through run_module, with the in-memory COS client."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cos
from ansible_collections.vmimport.migrate.plugins.modules import cos_multipart_cleanup
from ansible_collections.vmimport.migrate.tests.unit.cos_fake import FakeCos
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

AUTH = {"endpoint_url": "http://127.0.0.1:9", "access_key_id": "AKID", "secret_access_key": "s3cr3t"}


@pytest.fixture
def fake(monkeypatch):
    f = FakeCos(buckets=("bkt",))
    monkeypatch.setattr(cos, "build_client", lambda params, max_pool_connections=10: f)
    now = datetime.now(timezone.utc)
    f.old = f.add_upload("bkt", "images/a.ova", initiated=now - timedelta(days=2))
    f.young = f.add_upload("bkt", "images/b.ova", initiated=now - timedelta(minutes=5))
    f.other = f.add_upload("bkt", "other/c.ova", initiated=now - timedelta(days=3))
    f.similar = f.add_upload("bkt", "images/a.ova.bak", initiated=now - timedelta(days=3))
    return f


def run(**kw):
    a = dict(AUTH, bucket="bkt")
    a.update(kw)
    return run_module(cos_multipart_cleanup, a, check_mode=a.pop("_check", False))


def test_check_mode_only_lists(fake):
    res = run(prefix="images/", older_than="1d", _check=True)
    assert res["changed"] and res["aborted"] == 0 and res["skipped"] == 1
    assert sorted(u["upload_id"] for u in res["uploads"]) == sorted([fake.old, fake.similar])
    assert not any(u["aborted"] for u in res["uploads"])
    assert len(fake.uploads) == 4 and fake.count("abort_multipart_upload") == 0
    assert all(u["age_seconds"] >= 86400 for u in res["uploads"])


def test_aborts_older_than_then_nothing_left(fake):
    res = run(prefix="images/", older_than="1d")
    assert res["changed"] and res["aborted"] == 2 and all(u["aborted"] for u in res["uploads"])
    assert sorted(fake.uploads) == sorted([fake.young, fake.other])
    again = run(prefix="images/", older_than="1d")
    assert not again["changed"] and again["uploads"] == [] and again["skipped"] == 1


def test_exact_key(fake):
    res = run(key="images/a.ova")
    assert [u["upload_id"] for u in res["uploads"]] == [fake.old]
    assert fake.similar in fake.uploads


def test_everything_by_default(fake):
    res = run()
    assert res["aborted"] == 4 and not fake.uploads


def test_upload_gone_meanwhile_is_not_an_error(fake):
    fake.fail["abort_multipart_upload"] = [(lambda kw: kw["UploadId"] == fake.old, "NoSuchUpload")]
    res = run(key="images/a.ova")
    assert not res["changed"] and res["aborted"] == 0


@pytest.mark.parametrize("kw,fragment", [
    ({"older_than": "soon"}, "older_than: expected an age"),
    ({"bucket": "x"}, "3 to 63"),
    ({"prefix": "a", "key": "b"}, "mutually exclusive"),
])
def test_bad_input(fake, kw, fragment):
    with pytest.raises(ModuleFail) as ei:
        run(**kw)
    assert fragment in ei.value.result["msg"]
    assert not fake.calls


def test_errors_are_clear(fake):
    fake.fail["list_multipart_uploads"] = [(lambda kw: True, "AccessDenied")]
    with pytest.raises(ModuleFail) as ei:
        run()
    assert "access denied" in ei.value.result["msg"] and "bucket 'bkt'" in ei.value.result["msg"]
