import json

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import (
    Inventory,
    ScopeError,
    adapter_type,
    controller_type,
    decode_vlan,
    disk_facts,
    label_number,
    network_facts,
    nic_facts,
    power_state,
    unmanaged_instance,
    unmanaged_instances,
)
from ansible_collections.vmimport.migrate.tests.unit.vsphere_fake import (
    CUSTOM_FIELDS,
    inventory_objects,
    pvlan_spec,
    sample_vms,
    trunk_spec,
    vlan_spec,
)


@pytest.fixture
def inv():
    return Inventory(inventory_objects(), CUSTOM_FIELDS)


@pytest.fixture
def vms():
    return sample_vms()


PVLANS = {300: (300, "promiscuous"), 301: (300, "isolated"), 302: (300, "community")}


# ------------------------------------------------------------------------------------------------
# decoders
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,expected", [
    (None, (0, None, None, [])),
    (0, (0, None, None, [])),
    (100, (100, None, None, [])),
    (4094, (4094, None, None, [])),
    (4095, (0, None, None, ["0-4094"])),
    (vlan_spec(200), (200, None, None, [])),
    (vlan_spec(0), (0, None, None, [])),
    (pvlan_spec(301), (300, 301, "isolated", [])),
    (pvlan_spec(302), (300, 302, "community", [])),
    (pvlan_spec(300), (300, 300, "promiscuous", [])),
    (pvlan_spec(399), (0, None, None, [])),  # not in the switch's PVLAN map: CloudStack sets nothing
    (trunk_spec((400, 409), (4000, 4000)), (0, None, None, ["400-409", "4000"])),
    (trunk_spec((0, 4094)), (0, None, None, ["0-4094"])),
])
def test_decode_vlan(spec, expected):
    v = decode_vlan(spec, PVLANS)
    assert (v["vlanid"], v["pvlanid"], v["pvlantype"], v["vlantrunk"]) == expected


def test_decode_pvlan_without_map_gives_no_vlan():
    assert decode_vlan(pvlan_spec(301))["vlanid"] == 0


@pytest.mark.parametrize("kind,expected", [
    ("ParaVirtualSCSIController", "pvscsi"), ("VirtualLsiLogicController", "lsilogic"),
    ("VirtualLsiLogicSASController", "lsisas1068"), ("VirtualBusLogicController", "buslogic"),
    ("VirtualIDEController", "ide"), ("VirtualAHCIController", "sata"), ("VirtualNVMEController", "nvme"),
    ("VirtualUSBController", "none"), (None, "none"),
])
def test_controller_type(kind, expected):
    assert controller_type(kind) == expected


@pytest.mark.parametrize("kind,expected", [
    ("VirtualVmxnet3", "Vmxnet3"), ("VirtualVmxnet3Vrdma", "Vmxnet3"), ("VirtualVmxnet2", "Vmxnet2"),
    ("VirtualPCNet32", "PCNet32"), ("VirtualE1000", "E1000"), ("VirtualE1000e", "E1000"),
    ("VirtualSriovEthernetCard", "E1000"),
])
def test_adapter_type_as_cloudstack(kind, expected):
    assert adapter_type(kind) == expected


def test_power_state_and_label_number():
    assert [power_state(s) for s in ("poweredOn", "poweredOff", "suspended", None)] == \
        ["PowerOn", "PowerOff", "PowerUnknown", "PowerUnknown"]
    assert [label_number(x) for x in ("Hard disk 10", "Network adapter 2", "", None)] == [10, 2, 0, 0]


# ------------------------------------------------------------------------------------------------
# inventory and scope
# ------------------------------------------------------------------------------------------------
def test_paths(inv):
    assert inv.path("group-v3") == "/DC0/vm/Apps/Web"
    assert inv.path("datacenter-2") == "/DC1"
    assert inv.datacenter_of("group-v3") == "datacenter-1"
    assert inv.cluster_of_host("host-1") == "domain-c1"
    assert inv.cluster_of_host("host-3") is None


def test_resolve_scope(inv):
    assert inv.resolve_scope()["root"] is None
    s = inv.resolve_scope(datacenter="DC0", cluster="C0")
    assert (s["datacenter"], s["cluster"], s["root"]) == ("datacenter-1", "domain-c1", "domain-c1")
    s = inv.resolve_scope(host="esx-b")
    assert s["root"] == "host-2"
    assert inv.resolve_scope(datacenter="DC0", folder="Apps")["folder"] == "group-v2"
    assert inv.resolve_scope(folder="/DC0/vm/Apps/Web")["folder"] == "group-v3"
    assert inv.resolve_scope(datacenter="DC1", folder="Apps")["folder"] == "group-v12"


@pytest.mark.parametrize("kwargs,message", [
    (dict(datacenter="DC9"), "datacenter 'DC9' not found; datacenters: DC0, DC1"),
    (dict(cluster="C0"), "cluster name 'C0' exists in datacenters DC0, DC1: set datacenter"),
    (dict(datacenter="DC0", cluster="C9"), "cluster 'C9' not found in datacenter 'DC0'; clusters: C0"),
    (dict(host="nope"), "host 'nope' not found; hosts: esx-a, esx-b, esx-s, esx-z"),
    (dict(datacenter="DC0", cluster="C0", host="esx-s"), "host 'esx-s' is not in cluster 'C0'"),
    (dict(folder="Apps"), "folder 'Apps' exists in datacenters DC0, DC1"),
    (dict(folder="/DC0/vm/Nope"), "folder '/DC0/vm/Nope' not found"),
])
def test_scope_errors_name_the_object(inv, kwargs, message):
    with pytest.raises(ScopeError) as e:
        inv.resolve_scope(**kwargs)
    assert message in str(e.value)


# ------------------------------------------------------------------------------------------------
# one VM
# ------------------------------------------------------------------------------------------------
def test_disks(inv, vms):
    disks = disk_facts("vm-10", vms["vm-10"]["config.hardware.device"], inv)
    # sorted by the number in the label, as CloudStack does: 1, 2, 10
    assert [d["label"] for d in disks] == ["Hard disk 1", "Hard disk 2", "Hard disk 10"]
    d1, d2, d10 = disks
    assert d1 == {"id": "10-2000", "label": "Hard disk 1", "capacity": 16 << 30, "controller": "pvscsi",
                  "controllerunit": 0, "imagepath": "[vmfs-1] vm/2000.vmdk", "position": 0,
                  "datastorename": "vmfs-1", "datastoretype": "VMFS", "datastorehost": None, "datastorepath": None}
    assert (d2["id"], d2["controller"], d2["controllerunit"], d2["capacity"]) == ("10-16000", "sata", 0, 1 << 20)
    assert (d10["controller"], d10["controllerunit"], d10["capacity"]) == ("lsilogic", 1, 4 << 30)
    assert (d10["datastorename"], d10["datastoretype"], d10["datastorehost"], d10["datastorepath"]) == \
        ("nfs-1", "NFS", "10.0.0.5", "/export/vms")


def test_disk_datastore_from_path_when_not_in_inventory(inv):
    d = disk_facts("vm-1", [{"_type": "VirtualDisk", "key": 2000, "unitNumber": 0, "capacityInKB": 1,
                             "deviceInfo": {"label": "Hard disk 1"},
                             "backing": {"_type": "VirtualDiskFlatVer2BackingInfo",
                                         "fileName": "[gone] vm/vm.vmdk", "datastore": "datastore-99"}}], inv)[0]
    assert (d["datastorename"], d["datastoretype"], d["controller"]) == ("gone", None, "none")


def test_nics(inv, vms):
    nics = nic_facts(vms["vm-10"], inv)
    assert [n["id"] for n in nics] == ["Network adapter 1", "Network adapter 2", "Network adapter 3"]
    std, pvlan, trunk = nics
    assert std == {"id": "Network adapter 1", "macaddress": "00:50:56:aa:00:01", "networkname": "VLAN100",
                   "vlanid": 100, "pvlanid": None, "pvlantype": None, "vlantrunk": [], "pcislot": "160",
                   "adaptertype": "Vmxnet3", "ipaddress": ["10.0.0.1"], "switchname": "vSwitch1",
                   "switchtype": "standard"}
    assert (pvlan["networkname"], pvlan["vlanid"], pvlan["pvlanid"], pvlan["pvlantype"], pvlan["adaptertype"]) == \
        ("PV-isolated", 300, 301, "isolated", "E1000")
    assert pvlan["ipaddress"] == ["10.0.1.1", "10.0.1.2"]
    assert (pvlan["switchname"], pvlan["switchtype"], pvlan["pcislot"]) == ("DVS0", "distributed", None)
    assert (trunk["vlanid"], trunk["vlantrunk"], trunk["ipaddress"]) == (0, ["400-409", "4000"], [])


def test_standard_vlan_comes_from_the_vms_host(inv, vms):
    # VLAN100 is tagged 110 on esx-b: CloudStack reads the portgroup spec of the VM's host
    assert nic_facts(vms["vm-11"], inv)[0]["vlanid"] == 110


def test_ips_only_when_tools_ok(inv, vms):
    assert nic_facts(vms["vm-12"], inv)[0]["ipaddress"] == []


def test_instance_running_cpu_speed_and_os_from_tools(inv, vms):
    i = unmanaged_instance("vm-10", vms["vm-10"], inv)
    assert i["cpuspeed"] == 2294  # maxCpuUsage 4588 / 2 CPUs, not the 1000 MHz reservation
    assert (i["osid"], i["osdisplayname"]) == ("rhel7_64Guest", "Red Hat Enterprise Linux 7 (64-bit)")
    assert (i["name"], i["cluster"], i["host"], i["datacenter"], i["folder"], i["moid"]) == \
        ("multi", "C0", "esx-a", "DC0", "/DC0/vm", "vm-10")
    assert (i["memory"], i["cpunumber"], i["cpucorespersocket"], i["powerstate"]) == (2048, 2, 1, "PowerOn")
    assert i["internalname"] is None
    for key in ("name", "osdisplayname", "osid", "memory", "powerstate", "cpunumber", "cpucorespersocket",
                "cpuspeed", "disk", "nic"):
        assert key in i


def test_instance_stopped_cpu_speed_is_the_reservation(inv, vms):
    i = unmanaged_instance("vm-11", vms["vm-11"], inv)
    assert (i["cpuspeed"], i["powerstate"]) == (1500, "PowerOff")
    assert (i["osid"], i["folder"]) == ("centos7_64Guest", "/DC0/vm/Apps")


def test_instance_on_standalone_host_has_no_cluster(inv, vms):
    i = unmanaged_instance("vm-12", vms["vm-12"], inv)
    assert (i["cluster"], i["host"]) == (None, "esx-s")
    assert i["nic"][0]["pvlantype"] == "promiscuous"


def test_custom_attributes_and_internal_name(inv, vms):
    i = unmanaged_instance("vm-14", vms["vm-14"], inv)
    assert i["internalname"] == "i-2-34-VM"
    assert i["customattributes"] == {"cloud.vm.internal.name": "i-2-34-VM", "owner": "finance"}


# ------------------------------------------------------------------------------------------------
# listing
# ------------------------------------------------------------------------------------------------
def test_templates_skipped_and_exclusions(inv, vms):
    out = unmanaged_instances(inv, vms, exclude=["managed-by-name", "i-2-34-VM"])
    assert [i["name"] for i in out["instances"]] == ["dc1-vm", "multi", "off-b", "stale-tools"]
    assert out["excluded"] == ["managed-by-name", "renamed-in-vsphere"]
    assert out["templates"] == ["tpl-centos"]
    json.dumps(out)  # plain data


@pytest.mark.parametrize("scope,names", [
    (dict(datacenter="DC0", cluster="C0"), ["managed-by-name", "multi", "off-b", "renamed-in-vsphere"]),
    (dict(host="esx-b"), ["off-b"]),
    (dict(datacenter="DC0", folder="Apps"), ["off-b", "stale-tools"]),
    (dict(folder="/DC0/vm/Apps/Web"), ["stale-tools"]),
    (dict(datacenter="DC1"), ["dc1-vm"]),
])
def test_scope_filters(inv, vms, scope, names):
    out = unmanaged_instances(inv, vms, inv.resolve_scope(**scope))
    assert [i["name"] for i in out["instances"]] == names


def test_names_filter(inv, vms):
    out = unmanaged_instances(inv, vms, names=["off-b", "tpl-centos"])
    assert [i["name"] for i in out["instances"]] == ["off-b"]
    assert out["templates"] == ["tpl-centos"]


# ------------------------------------------------------------------------------------------------
# networks
# ------------------------------------------------------------------------------------------------
def by_pg(networks):
    out = {}
    for n in networks:
        out.setdefault(n["portgroup"], []).append(n)
    return out


def test_network_facts(inv, vms):
    nets = network_facts(inv, vms)
    pgs = by_pg(nets)
    assert "DVS0-DVUplinks-1" not in pgs
    iso = pgs["PV-isolated"][0]
    assert (iso["switch"], iso["switchtype"], iso["vlantype"], iso["vlanid"], iso["pvlanid"], iso["pvlantype"]) == \
        ("DVS0", "distributed", "pvlan", 300, 301, "isolated")
    assert iso["hosts"] == ["esx-a", "esx-b", "esx-s"] and iso["clusters"] == ["C0"]
    assert iso["virtualmachines"] == [{"name": "multi", "moid": "vm-10", "host": "esx-a", "nics": [
        {"id": "Network adapter 2", "macaddress": "00:50:56:aa:00:02"}]}]
    trunk = pgs["TRUNK"][0]
    assert (trunk["vlantype"], trunk["vlanid"], trunk["vlantrunk"]) == ("trunk", 0, ["400-409", "4000"])
    # the template's NIC is not listed
    assert [v["name"] for v in pgs["DVPG200"][0]["virtualmachines"]] == ["managed-by-name"]
    # a standard portgroup tagged differently on two hosts: one entry per VLAN, each with its hosts and VMs
    std = pgs["VLAN100"]
    assert [(e["vlanid"], e["hosts"], [v["name"] for v in e["virtualmachines"]]) for e in std] == \
        [(100, ["esx-a"], ["multi"]), (110, ["esx-b"], ["off-b"])]
    assert (std[0]["switch"], std[0]["switchtype"], std[0]["vlantype"]) == ("vSwitch1", "standard", "vlan")
    allv = pgs["ALL"][0]
    assert (allv["vlantype"], allv["vlantrunk"], allv["clusters"]) == ("trunk", ["0-4094"], [])
    # hosts found through HostSystem.network when Network.host is empty
    assert pgs["VM Network"][0]["hosts"] == ["esx-a", "esx-b", "esx-s"]
    assert pgs["VM Network"][0]["vlantype"] == "none"
    # stable order and plain data
    assert json.dumps(nets, sort_keys=True) == json.dumps(network_facts(inv, vms), sort_keys=True)
    keys = [(n["datacenter"], n["switchtype"], n["switch"], n["portgroup"]) for n in nets]
    assert keys == sorted(keys)


def test_network_facts_cluster_scope_and_used_only(inv, vms):
    nets = network_facts(inv, vms, inv.resolve_scope(datacenter="DC0", cluster="C0"), used_only=True)
    pgs = by_pg(nets)
    assert sorted(pgs) == ["DVPG200", "PV-community", "PV-isolated", "TRUNK", "VLAN100"]
    assert pgs["PV-isolated"][0]["hosts"] == ["esx-a", "esx-b"]  # esx-s is standalone, out of scope
    assert all(v["name"] != "stale-tools" for n in nets for v in n["virtualmachines"])


def test_network_facts_host_scope_drops_other_hosts_portgroups(inv, vms):
    pgs = by_pg(network_facts(inv, vms, inv.resolve_scope(host="esx-s")))
    assert "VLAN100" not in pgs
    assert pgs["ALL"][0]["hosts"] == ["esx-s"]
    assert [v["name"] for v in pgs["PV-promiscuous"][0]["virtualmachines"]] == ["stale-tools"]


def test_tags_added_when_read(inv, vms):
    tags = {"vm-10": [{"name": "gold", "category": "Tier"}, {"name": "finance", "category": "Owner"},
                      {"name": "ops", "category": "Owner"}]}
    out = unmanaged_instances(inv, vms, tags=tags)["instances"]
    multi = [i for i in out if i["name"] == "multi"][0]
    assert multi["tags"] == ["finance", "gold", "ops"]
    assert multi["tagcategories"] == {"Owner": ["finance", "ops"], "Tier": ["gold"]}
    assert all(i["tags"] == [] and i["tagcategories"] == {} for i in out if i["name"] != "multi")
    assert "tags" not in unmanaged_instances(inv, vms)["instances"][0]
