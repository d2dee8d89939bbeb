"""cloudstack_unmanaged_import with a fake cs client."""

from unittest import mock

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu
from ansible_collections.vmimport.migrate.plugins.modules import cloudstack_unmanaged_import as mod
from ansible_collections.vmimport.migrate.tests.unit.cloudstack_fake import (
    FakeCs, disk, instance, nic,
)
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

AUTH = {"api_url": "http://127.0.0.1:8080/client/api", "api_key": "KEY", "api_secret": "SECRET"}


def run(fake, check_mode=False, diff=False, **args):
    params = dict(AUTH, name="web01", zone="zone1", cluster="DC0_C0", service_offering="custom-constrained",
                  poll_interval=0)
    params.update(args)

    def factory(p, **kw):
        assert p["api_key"] == "KEY" and p["api_secret"] == "SECRET"
        return csu.CloudStackClient(p["api_url"], p["api_key"], p["api_secret"], cs=fake, sleep=lambda s: None)

    with mock.patch.object(mod, "client_from_params", factory):
        return run_module(mod, params, check_mode=check_mode, diff=diff)


def test_import_resolves_names_maps_nics_and_waits():
    fake = FakeCs(unmanaged=[instance(disk=[disk("101", 0, 20), disk("101", 1, 50)],
                                      nic=[nic(0, vlan=100), nic(1, vlan=400, ips=["10.40.0.77"])])],
                  job_polls=2)
    result = run(fake, data_disk_offerings={"101-2001": "disk-100g"},
                 nic_ip_addresses={"Network adapter 2": "auto"}, details={"cpuSpeed": 1500})
    assert result["changed"] is True
    assert result["job_id"] == "job-1"
    assert result["virtual_machine"]["instancename"] == "web01"
    sent = fake.called("importUnmanagedInstance")[0]
    assert sent == {"clusterid": "c-1", "name": "web01", "serviceofferingid": "so-cc",
                    "nicnetworklist": [{"nic": "Network adapter 1", "network": "n-100"},
                                       {"nic": "Network adapter 2", "network": "n-400"}],
                    "nicipaddresslist": [{"nic": "Network adapter 2", "ip4Address": "auto"}],
                    "datadiskofferinglist": [{"disk": "101-2001", "diskOffering": "do-100"}],
                    "details": {"cpuSpeed": "1500"}, "migrateallowed": False, "forced": False}
    assert result["api_params"] == sent
    assert result["api_query"]["nicnetworklist[1].network"] == "n-400"
    assert result["nic_map"]["Network adapter 1"] == {"id": "n-100", "name": "l2-vlan100", "how": "vlan"}


def test_second_run_is_no_change():
    fake = FakeCs()
    run(fake)
    result = run(fake)
    assert result["changed"] is False
    assert result["virtual_machine"]["id"] == "vm-web01"
    assert "already managed by CloudStack" in result["msg"]
    assert len(fake.called("importUnmanagedInstance")) == 1


def test_check_mode_returns_the_exact_parameters_and_calls_nothing():
    fake = FakeCs()
    result = run(fake, check_mode=True, diff=True, host_name="web-01", account="finance-ops", domain="ROOT/finance",
                 nic_networks={"Network adapter 1": "l2-vlan100"}, migrate_allowed=True)
    assert result["changed"] is True
    assert fake.called("importUnmanagedInstance") == []
    assert result["api_params"] == {"clusterid": "c-1", "name": "web01", "serviceofferingid": "so-cc",
                                    "hostname": "web-01", "account": "finance-ops", "domainid": "d-fin",
                                    "nicnetworklist": [{"nic": "Network adapter 1", "network": "n-100"}],
                                    "migrateallowed": True, "forced": False}
    assert result["diff"]["before"] == {"name": "web01", "managed": False}
    assert result["diff"]["after"]["managed"] is True


def test_rules_fail_before_the_call_with_cloudstack_wording_and_every_problem():
    fake = FakeCs(unmanaged=[instance(name="web_01", cpunumber=4, memory=8192,
                                      nic=[nic(0, adapter="E1000"), nic(1, vlan=0)],
                                      disk=[disk("1", 0, 20), disk("1", 1, 50)])])
    with pytest.raises(ModuleFail) as e:
        run(fake, name="web_01", service_offering="small-fixed")
    msg = e.value.result["msg"]
    assert fake.called("importUnmanagedInstance") == []
    for needle in ("web_01: Please provide a valid hostname for the VM.",
                   "web_01: Service offering (so-small) 1 CPU cores do not match VM CPU cores 4 and VM is not in "
                   "powered off state (Power state: PowerOn)",
                   "web_01: VM has total 2 disks for which 0 disk offering mappings provided. 1 disks need a disk "
                   "offering for import",
                   "web_01: Multiple network adapter of different type (E1000, Vmxnet3)",
                   "web_01: Suitable network for nic(ID: Network adapter 2) not found during VM import"):
        assert needle in msg
    assert len(e.value.result["problems"]) == 6  # the memory mismatch too
    assert all(p["vm"] == "web_01" for p in e.value.result["problems"])


def test_precheck_off_lets_cloudstack_answer():
    fake = FakeCs(unmanaged=[instance(nic=[nic(0, vlan=0)])],
                  job_result={"errorcode": 530,
                              "errortext": "Suitable network for nic(ID: Network adapter 1) not found during VM import"})
    with pytest.raises(ModuleFail) as e:
        run(fake, precheck=False)
    assert len(fake.called("importUnmanagedInstance")) == 1
    assert e.value.result["job_id"] == "job-1"
    assert e.value.result["msg"].startswith("web01: import failed: CloudStack job job-1 (importUnmanagedInstance) "
                                            "failed (530): Suitable network for nic(ID: Network adapter 1)")


def test_unknown_names_are_listed():
    fake = FakeCs()
    with pytest.raises(ModuleFail) as e:
        run(fake, service_offering="huge", nic_networks={"Network adapter 1": "nope"},
            data_disk_offerings={"101-2001": "disk-1t"})
    msg = e.value.result["msg"]
    assert msg.startswith("web01: service offering 'huge' not found in CloudStack; known: ")
    assert "network 'nope' not found in CloudStack in zone zone1" in msg
    assert "disk offering 'disk-1t' not found" in msg


def test_vm_not_found_uses_cloudstack_wording():
    with pytest.raises(ModuleFail) as e:
        run(FakeCs(), name="ghost")
    assert e.value.result["msg"].startswith("ghost: Failed to find unmanaged vm with name: ghost in cluster: c-1")


def test_wait_false_returns_the_job():
    fake = FakeCs()
    result = run(fake, wait=False)
    assert result["changed"] is True and result["job_id"] == "job-1"
    assert fake.called("queryAsyncJobResult") == []


def test_timeout_reports_the_job_id():
    fake = FakeCs(job_polls=10 ** 6)
    with pytest.raises(ModuleFail) as e:
        run(fake, wait_timeout=0)
    assert e.value.result["job_id"] == "job-1"
    assert "still pending after 0s" in e.value.result["msg"]


def test_missing_credentials():
    with pytest.raises(ModuleFail) as e:
        run_module(mod, {"name": "web01", "cluster": "DC0_C0", "service_offering": "x"})
    assert e.value.result["msg"] == ("CloudStack credentials missing: set api_url (or CLOUDSTACK_ENDPOINT), api_key "
                                     "(or CLOUDSTACK_KEY), api_secret (or CLOUDSTACK_SECRET)")


def test_credentials_from_environment(monkeypatch):
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", AUTH["api_url"])
    monkeypatch.setenv("CLOUDSTACK_KEY", "KEY")
    monkeypatch.setenv("CLOUDSTACK_SECRET", "SECRET")
    fake = FakeCs()

    def factory(p, **kw):
        assert (p["api_url"], p["api_key"], p["api_secret"]) == (AUTH["api_url"], "KEY", "SECRET")
        return csu.CloudStackClient(p["api_url"], "k", "s", cs=fake, sleep=lambda s: None)

    with mock.patch.object(mod, "client_from_params", factory):
        result = run_module(mod, {"name": "web01", "zone": "zone1", "cluster": "DC0_C0",
                                  "service_offering": "custom-constrained", "poll_interval": 0})
    assert result["changed"] is True


def test_api_errors_are_one_message():
    err = csu.CloudStackError("CloudStack listClusters failed (HTTP 401): unable to verify user credentials and/or "
                              "request signature (check api_key and api_secret)", status=401)
    fake = FakeCs(errors=[err])
    with pytest.raises(ModuleFail) as e:
        run(fake)
    assert e.value.result["msg"].startswith("web01: CloudStack listClusters failed (HTTP 401)")
    assert "exception" not in e.value.result
