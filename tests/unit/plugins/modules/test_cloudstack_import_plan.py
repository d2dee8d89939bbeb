"""cloudstack_import_plan: write (changed only on a difference, merge, check mode) and read."""

import os
from unittest import mock

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu
from ansible_collections.vmimport.migrate.plugins.modules import cloudstack_import_plan as mod
from ansible_collections.vmimport.migrate.tests.unit.cloudstack_fake import (
    FakeCs, disk, instance, nic,
)
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

RULES = {"zone": "zone1",
         "networks": {"by_vlan": {"100": "l2-vlan100", "400": "shared-vlan400"}},
         "auto_ip_networks": ["shared-vlan400"],
         "service_offerings": [{"service_offering": "custom-constrained"}],
         "data_disk_offerings": "disk-100g"}


def facts():
    return [instance("web01", "101", disk=[disk("101", 0, 20), disk("101", 1, 50)]),
            instance("db01", "102", nic=[nic(0, vlan=400, ips=["10.40.0.21"])]),
            instance("app01", "103", nic=[nic(0, vlan=0)])]


def write(tmp_path, check_mode=False, diff=False, **kw):
    args = {"state": "write", "instances": facts(), "rules": RULES, "csv_path": str(tmp_path / "plan.csv"),
            "yaml_path": str(tmp_path / "plan.yml")}
    args.update(kw)
    return run_module(mod, args, check_mode=check_mode, diff=diff)


def read(path, fake=None, **kw):
    args = {"state": "read", "path": str(path), "instances": facts()}
    args.update(kw)
    if fake is None:
        return run_module(mod, args)
    args.update(api_url="http://127.0.0.1:1/client/api", api_key="K", api_secret="S")

    def factory(p, **k):
        return csu.CloudStackClient(p["api_url"], "K", "S", cs=fake, sleep=lambda s: None)

    with mock.patch.object(mod, "client_from_params", factory):
        return run_module(mod, args)


def test_write_creates_both_files_then_no_change(tmp_path):
    first = write(tmp_path)
    assert first["changed"] is True
    assert first["added"] == ["app01", "db01", "web01"]
    assert [f["changed"] for f in first["files"]] == [True, True]
    csv_text = (tmp_path / "plan.csv").read_text()
    assert "web01,import,zone1,DC0_C0,,,custom-constrained,,,,,,Network adapter 1=l2-vlan100,,101-2001=disk-100g," \
           "false,false,PowerOn,2,2048" in csv_text
    second = write(tmp_path)
    assert second["changed"] is False and second["kept"] == ["app01", "db01", "web01"]


def test_check_mode_and_diff_write_nothing(tmp_path):
    result = write(tmp_path, check_mode=True, diff=True)
    assert result["changed"] is True
    assert not os.path.exists(str(tmp_path / "plan.csv"))
    assert result["diff"][0]["before"] == "" and result["diff"][0]["after"].startswith("name,action,zone")


def test_merge_keeps_edits_of_the_file_changed_last(tmp_path):
    write(tmp_path)
    csv_path = tmp_path / "plan.csv"
    text = csv_path.read_text().replace("web01,import,zone1,DC0_C0,,,custom-constrained",
                                        "web01,skip,zone1,DC0_C0,,,custom-constrained")
    csv_path.write_text(text)
    os.utime(str(csv_path), (os.stat(str(csv_path)).st_atime, os.stat(str(tmp_path / "plan.yml")).st_mtime + 5))
    result = write(tmp_path, instances=facts() + [instance("new01", "104")])
    assert result["changed"] is True and result["added"] == ["new01"]
    assert result["merged_from"] == str(csv_path)
    yaml_text = (tmp_path / "plan.yml").read_text()
    assert "- name: web01\n  action: skip\n" in yaml_text
    assert "- name: new01\n" in yaml_text
    replaced = write(tmp_path, mode="replace")
    assert "web01,import," in (tmp_path / "plan.csv").read_text() and replaced["changed"] is True


def test_write_needs_instances_and_a_path(tmp_path):
    with pytest.raises(ModuleFail, match="needs instances"):
        run_module(mod, {"state": "write", "csv_path": str(tmp_path / "p.csv")})
    with pytest.raises(ModuleFail, match="needs csv_path, yaml_path or both"):
        run_module(mod, {"state": "write", "instances": []})
    with pytest.raises(ModuleFail, match="rules has unknown key"):
        write(tmp_path, rules={"zonez": 1})


def test_read_reports_every_problem_and_fails(tmp_path):
    write(tmp_path)
    with pytest.raises(ModuleFail) as e:
        read(tmp_path / "plan.csv")
    msg = e.value.result["msg"]
    assert msg.startswith("plan %s has 1 problem(s) in 1 row(s): " % (tmp_path / "plan.csv"))
    assert "row 1 (app01): Suitable network for nic(ID: Network adapter 1) not found during VM import" in msg
    rows = dict((r["name"], r["status"]) for r in e.value.result["rows"])
    assert rows == {"app01": "invalid", "db01": "ready", "web01": "ready"}


def test_read_without_failing_returns_ready_rows(tmp_path):
    write(tmp_path)
    result = read(tmp_path / "plan.yml", fail_on_problems=False)
    assert result["changed"] is False
    assert [i["name"] for i in result["imports"]] == ["db01", "web01"]
    web = result["imports"][1]
    assert web == {"name": "web01", "zone": "zone1", "cluster": "DC0_C0", "service_offering": "custom-constrained",
                   "nic_networks": {"Network adapter 1": "l2-vlan100"},
                   "data_disk_offerings": {"101-2001": "disk-100g"}, "migrate_allowed": False, "forced": False}
    assert result["imports"][0]["nic_ip_addresses"] == {"Network adapter 1": "auto"}
    assert len(result["problems"]) == 1


def test_read_against_cloudstack_recognises_imported_vms(tmp_path):
    write(tmp_path)
    path = tmp_path / "plan.csv"
    path.write_text(path.read_text().replace("app01,import", "app01,skip"))
    fake = FakeCs(unmanaged=[])
    fake.data["vms"].append({"id": "vm-db01", "name": "db01", "instancename": "db01", "zoneid": "z-1", "nic": []})
    instances = [i for i in facts() if i["name"] != "db01"]
    result = read(path, fake, instances=instances)
    status = dict((r["name"], r["status"]) for r in result["rows"])
    assert status == {"app01": "skip", "db01": "managed", "web01": "ready"}
    assert [i["name"] for i in result["imports"]] == ["web01"]


def test_read_missing_file(tmp_path):
    with pytest.raises(ModuleFail, match="does not exist: write it first with state=write"):
        read(tmp_path / "nope.csv")
