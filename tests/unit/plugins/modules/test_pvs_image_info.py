import pytest
import responses

from ansible_collections.vmimport.migrate.plugins.module_utils import powervs as pv
from ansible_collections.vmimport.migrate.plugins.modules import pvs_image_info
from ansible_collections.vmimport.migrate.tests.unit.pvs_fake import FakePowerVS, conn_args
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        f = FakePowerVS(rsps)
        f.add_image("a", created="2026-01-01T00:00:00.000Z", image_id="a1")
        f.add_image("b", created="2026-03-01T00:00:00.000Z", image_id="b1")
        f.add_image("a", created="2026-02-01T00:00:00.000Z", image_id="a2")
        yield f


def test_lists_references_newest_first_without_detail_calls(fake):
    res = run_module(pvs_image_info, conn_args())
    assert res["changed"] is False
    assert [i["imageID"] for i in res["images"]] == ["b1", "a2", "a1"]
    assert "size" not in res["images"][0]
    assert fake.calls == [("GET", "/pcloud/v1/cloud-instances/ws-0001/images")]


def test_details_for_every_image(fake):
    res = run_module(pvs_image_info, conn_args(details=True))
    assert all(i["size"] == 20 for i in res["images"]) and len(fake.calls) == 4


def test_by_name_returns_all_matches_with_warning(fake, monkeypatch):
    warnings = []
    monkeypatch.setattr(pvs_image_info.AnsibleModule, "warn", lambda self, w: warnings.append(w))
    res = run_module(pvs_image_info, conn_args(name="a"))
    assert [i["imageID"] for i in res["images"]] == ["a2", "a1"]
    assert "volumes" in res["images"][0]
    assert warnings and "2 images are named 'a'" in warnings[0]


def test_by_name_absent_is_empty(fake):
    assert run_module(pvs_image_info, conn_args(name="zzz"))["images"] == []


def test_by_id(fake):
    res = run_module(pvs_image_info, conn_args(image_id="b1"))
    assert [i["name"] for i in res["images"]] == ["b"]
    assert run_module(pvs_image_info, conn_args(image_id="nope"))["images"] == []


def test_name_and_id_are_exclusive(fake):
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_info, conn_args(name="a", image_id="a1"))
    assert "mutually exclusive" in e.value.result["msg"]


def test_wrong_zone_in_crn_is_a_clear_error(fake):
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_info, conn_args(zone="lon06", endpoint_url=fake.endpoint))
    assert e.value.result["status"] == 403
    assert "Check account_id (or crn) and zone" in e.value.result["msg"]


def test_runs_in_check_mode(fake):
    assert len(run_module(pvs_image_info, conn_args(), check_mode=True)["images"]) == 3


def test_missing_sdk_is_reported(fake, monkeypatch):
    monkeypatch.setattr(pv, "HAS_IBM_SDK_CORE", False)
    with pytest.raises(ModuleFail) as e:
        run_module(pvs_image_info, conn_args())
    assert "ibm-cloud-sdk-core" in e.value.result["msg"]
