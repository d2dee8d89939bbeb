import pytest
from ansible.module_utils import basic

from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere import VsphereError
from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import Inventory
from ansible_collections.vmimport.migrate.plugins.modules import vsphere_network_facts, vsphere_unmanaged_facts
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module
from ansible_collections.vmimport.migrate.tests.unit.vsphere_fake import CUSTOM_FIELDS, inventory_objects, sample_vms

AUTH = dict(hostname="vc.example.com", username="administrator@vsphere.local", password="S3cret!pw",
            validate_certs=False)


class FakeClient(object):
    """Stands in for VsphereClient: the sample inventory, records what the module asks for."""

    instances = []

    def __init__(self, params):
        self.params = params
        self.calls = []
        self.closed = False
        FakeClient.instances.append(self)

    @classmethod
    def from_params(cls, params):
        if params.get("password") == "wrong":
            raise VsphereError("vCenter vc.example.com:443 refused the login of 'administrator@vsphere.local': "
                               "incorrect user name or password")
        return cls(params)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True
        return False

    def inventory(self, page_size):
        self.calls.append(("inventory", page_size))
        return Inventory(inventory_objects(), CUSTOM_FIELDS)

    def virtual_machines(self, inventory, root, properties, page_size):
        self.calls.append(("virtual_machines", root, tuple(properties), page_size))
        return sample_vms()


class FakeTags(object):
    """Stands in for VsphereTags."""

    answer = {"vm-10": [{"name": "finance", "category": "Owner"}]}
    asked = []

    def __init__(self, params):
        self.where = "vCenter %s:443" % params["hostname"]

    @classmethod
    def from_params(cls, params):
        return cls(params)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def tags_of(self, objects):
        FakeTags.asked = list(objects)
        return self.answer


@pytest.fixture(autouse=True)
def fake_client(monkeypatch):
    FakeClient.instances = []
    for module in (vsphere_unmanaged_facts, vsphere_network_facts):
        monkeypatch.setattr(module, "VsphereClient", FakeClient)
    monkeypatch.setattr(vsphere_unmanaged_facts, "VsphereTags", FakeTags)
    return FakeClient


def test_unmanaged_facts_with_tags(monkeypatch):
    result = run_module(vsphere_unmanaged_facts, dict(AUTH, tags=True, names=["multi", "off-b"]))
    by_name = dict((i["name"], i) for i in result["instances"])
    assert by_name["multi"]["tags"] == ["finance"] and by_name["multi"]["tagcategories"] == {"Owner": ["finance"]}
    assert by_name["off-b"]["tags"] == []
    assert ("VirtualMachine", "vm-10") in FakeTags.asked
    # not asked: no tags key at all
    result = run_module(vsphere_unmanaged_facts, dict(AUTH, names=["multi"]))
    assert "tags" not in result["instances"][0]


def test_unmanaged_facts_tags_without_automation_api(monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    monkeypatch.setattr(FakeTags, "answer", None)
    result = run_module(vsphere_unmanaged_facts, dict(AUTH, tags=True, names=["multi"]))
    assert result["instances"][0]["tags"] == []
    assert warnings == ["vCenter vc.example.com:443 has no vSphere Automation API (an ESXi host?): VM tags were not read"]


def test_unmanaged_facts_in_check_mode(fake_client):
    result = run_module(vsphere_unmanaged_facts, dict(AUTH, datacenter="DC0", cluster="C0", exclude=["i-2-34-VM"],
                                                      page_size=50), check_mode=True)
    assert result["changed"] is False
    assert [i["name"] for i in result["instances"]] == ["managed-by-name", "multi", "off-b"]
    assert result["excluded"] == ["renamed-in-vsphere"]
    assert result["templates"] == ["tpl-centos"]
    client = fake_client.instances[0]
    assert client.closed
    assert client.calls[0] == ("inventory", 50)
    assert client.calls[1][1] == "domain-c1"  # the VM view starts at the cluster
    assert "config.hardware.device" in client.calls[1][2]


def test_unmanaged_facts_unknown_names_warn(fake_client, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    result = run_module(vsphere_unmanaged_facts, dict(AUTH, names=["multi", "ghost"]))
    assert [i["name"] for i in result["instances"]] == ["multi"]
    assert warnings == ["no VM named ghost in scope"]


@pytest.mark.parametrize("module", [vsphere_unmanaged_facts, vsphere_network_facts])
def test_scope_error_fails_cleanly(module):
    with pytest.raises(ModuleFail) as e:
        run_module(module, dict(AUTH, cluster="C0"))
    assert e.value.result["msg"] == "cluster name 'C0' exists in datacenters DC0, DC1: set datacenter to choose one"
    assert "exception" not in e.value.result


@pytest.mark.parametrize("module", [vsphere_unmanaged_facts, vsphere_network_facts])
def test_login_error_fails_cleanly(module):
    with pytest.raises(ModuleFail) as e:
        run_module(module, dict(AUTH, password="wrong"))
    assert "incorrect user name or password" in e.value.result["msg"]


@pytest.mark.parametrize("module", [vsphere_unmanaged_facts, vsphere_network_facts])
def test_page_size_must_be_positive(module):
    with pytest.raises(ModuleFail) as e:
        run_module(module, dict(AUTH, page_size=0))
    assert e.value.result["msg"] == "page_size must be at least 1 (got 0)"


def test_connection_options_from_environment(monkeypatch, fake_client):
    monkeypatch.setenv("VMWARE_HOST", "env-vc")
    monkeypatch.setenv("VMWARE_USER", "env-user")
    monkeypatch.setenv("VMWARE_PASSWORD", "env-pass")
    monkeypatch.setenv("VMWARE_PORT", "9443")
    monkeypatch.setenv("VMWARE_VALIDATE_CERTS", "false")
    run_module(vsphere_network_facts, {})
    p = fake_client.instances[0].params
    assert (p["hostname"], p["username"], p["password"], p["port"], p["validate_certs"]) == \
        ("env-vc", "env-user", "env-pass", 9443, False)


def test_network_facts(fake_client):
    result = run_module(vsphere_network_facts, dict(AUTH, datacenter="DC0", used_only=True), check_mode=True)
    assert result["changed"] is False
    names = [n["portgroup"] for n in result["networks"]]
    assert "PV-isolated" in names and "TRUNK" in names and "DVS0-DVUplinks-1" not in names
    assert all(n["virtualmachines"] for n in result["networks"])
    assert fake_client.instances[0].calls[1][1] == "datacenter-1"
