"""CloudStack's import rules (check_import), NIC mapping and the API parameters."""

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack_import as ci
from ansible_collections.vmimport.migrate.tests.unit.cloudstack_fake import (
    DISK_OFFERINGS, MANAGED, NETWORKS, SERVICE_OFFERINGS, TEMPLATES, ZONE, by_name, ctx, disk, instance, nic,
    request,
)


def problems(inst, req, context=None):
    found, _map = ci.check_import(inst, req, ctx() if context is None else context)
    return [str(p) for p in found]


def only(inst, req, context=None):
    found = problems(inst, req, context)
    assert len(found) == 1, found
    return found[0]


def test_clean_vm_has_no_problem_and_nic_matched_by_vlan():
    found, nic_map = ci.check_import(instance(), request(), ctx())
    assert found == []
    assert nic_map["Network adapter 1"]["name"] == "l2-vlan100"  # not the Public network with vlan://100


# ---- hostname -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,ok", [("web01", True), ("a", True), ("a-b-9", True), ("9web", False),
                                     ("-web", False), ("web-", False), ("web_01", False), ("web.example", False),
                                     ("x" * 63, True), ("x" * 64, False), ("", False)])
def test_verify_hostname_follows_netutils(name, ok):
    assert ci.verify_hostname(name) is ok


def test_invalid_vm_name_without_host_name():
    msg = only(instance(name="bad_name.example"), request(name="bad_name.example"))
    assert msg.startswith("bad_name.example: Please provide a valid hostname for the VM. VM name contains "
                          "unsupported characters that cannot be used as hostname.")
    assert "host_name, e.g. 'bad-name-example'" in msg


def test_invalid_host_name():
    msg = only(instance(), request(host_name="1web"))
    assert msg.startswith("web01: " + ci.MSG_HOSTNAME)
    assert "can't start with digit" in msg


def test_sanitize_hostname_is_valid():
    for name in ("bad_name.example", "9lives", "--x--", "Ünïcode VM", "x" * 80):
        assert ci.verify_hostname(ci.sanitize_hostname(name)), name


def test_domain_without_account():
    msg = only(instance(), request(domain={"id": "d-fin", "name": "finance"}))
    assert "web01: domainid parameter must be specified with account parameter" in msg


# ---- guest OS -------------------------------------------------------------------------------
def test_unknown_guest_os_needs_template():
    inst = instance(osdisplayname="Plan 9 (64-bit)", osid="plan9_64Guest")
    msg = only(inst, request())
    assert msg.startswith("web01: Unable to retrieve guest OS details for unmanaged VM: web01 with OS name: Plan 9 "
                          "(64-bit), OS ID: plan9_64Guest for hypervisor: VMware version: 7.0. templateid parameter "
                          "can be used to assign template for VM")
    assert problems(inst, request(template=TEMPLATES[0])) == []


def test_guest_os_known_without_vmware_mapping():
    msg = only(instance(osdisplayname="FreeBSD 13 (64-bit)", osid="freebsd13_64Guest"), request())
    assert "Unable to find hypervisor guest OS ID: os-freebsd13 details for unmanaged VM: web01 for hypervisor: " \
           "VMware version: 7.0" in msg


def test_guest_os_matched_by_display_name():
    assert problems(instance(osdisplayname="Other (32-bit)", osid="whatever"), request()) == []


# ---- compute offering -----------------------------------------------------------------------
def test_fixed_offering_against_running_vm():
    inst = instance(cpunumber=4, memory=8192, cpuspeed=2000)
    found = problems(inst, request(offering="small-fixed"))
    assert found[0].startswith("web01: Service offering (so-small) 1 CPU cores do not match VM CPU cores 4 and VM "
                               "is not in powered off state (Power state: PowerOn)")
    assert "Service offering (so-small) 1024MB memory does not match VM memory 8192MB and VM is not in powered " \
           "off state (Power state: PowerOn)" in found[1]
    assert "Service offering (so-small) 1000MHz CPU speed does not match VM CPU speed 2000MHz" in found[2]
    assert problems(dict(inst, powerstate="PowerOff"), request(offering="small-fixed")) == []
    assert problems(inst, request(offering="large-fixed")) == []


def test_custom_unconstrained_needs_cpu_speed():
    msg = only(instance(cpuspeed=0), request(offering="custom-unconstrained"))
    assert "web01: Invalid cpu speed value, specify a value between 1 and 2147483647" in msg
    assert problems(instance(cpuspeed=0), request(offering="custom-unconstrained", details={"cpuSpeed": "1500"})) == []
    assert problems(instance(cpuspeed=1800), request(offering="custom-unconstrained")) == []


def test_custom_constrained_limits():
    found = problems(instance(cpunumber=16, memory=32768), request())
    assert "Invalid cpu cores value, specify a value between 1 and 8" in found[0]
    assert "Invalid memory value, specify a value between 512 and 16384" in found[1]


# ---- disks ----------------------------------------------------------------------------------
def test_data_disks_need_n_minus_1_offerings():
    inst = instance(disk=[disk("101", 0, 20), disk("101", 1, 50), disk("101", 2, 50)])
    msg = only(inst, request(data_disk_offerings={"101-2001": by_name(DISK_OFFERINGS, "disk-100g")}))
    assert msg.startswith("web01: VM has total 3 disks for which 1 disk offering mappings provided. 2 disks need a "
                          "disk offering for import")
    assert "101-2000, 101-2001, 101-2002" in msg


def test_data_disk_offering_for_unknown_disk():
    inst = instance(disk=[disk("101", 0, 20), disk("101", 1, 50)])
    msg = only(inst, request(data_disk_offerings={"999-2001": by_name(DISK_OFFERINGS, "disk-100g")}))
    assert "VM has total 2 disks, disk offering mapping not provided for 1 disks. Disk IDs that may need a disk " \
           "offering - 101-2000, 101-2001" in msg


def test_mixed_data_disk_controllers():
    inst = instance(disk=[disk("101", 0, 20), disk("101", 1, 5), disk("101", 2, 5, controller="pvscsi")])
    off = by_name(DISK_OFFERINGS, "disk-10g")
    msg = only(inst, request(data_disk_offerings={"101-2001": off, "101-2002": off}))
    assert "web01: Multiple data disk controllers of different type (lsilogic, pvscsi) are not supported for " \
           "import. Please make sure that all data disk controllers are of the same type" in msg
    # the root disk may use another controller
    inst = instance(disk=[disk("101", 0, 20, controller="ide"), disk("101", 1, 5), disk("101", 2, 5)])
    assert problems(inst, request(data_disk_offerings={"101-2001": off, "101-2002": off})) == []


def test_disk_offering_smaller_than_disk():
    inst = instance(disk=[disk("101", 0, 20), disk("101", 1, 50)])
    msg = only(inst, request(data_disk_offerings={"101-2001": by_name(DISK_OFFERINGS, "disk-10g")}))
    assert "Size of disk offering(ID: do-10) 10GB is found less than the size of disk(ID: 101-2001) 50GB during " \
           "VM import" in msg
    assert problems(inst, request(data_disk_offerings={"101-2001": by_name(DISK_OFFERINGS, "disk-custom")})) == []


def test_storage_pool_missing():
    inst = instance(disk=[disk("101", 0, 20, ds="orphan-ds")])
    msg = only(inst, request())
    assert "web01: Storage pool for disk Hard disk 1(101-2000) with datastore: orphan-ds not found in zone ID: z-1" \
        in msg
    assert problems(instance(disk=[disk("101", 0, 20, ds="LocalDS_0")]), request()) == []


def test_no_disks():
    assert "No attached disks found for the unmanaged VM: web01" in only(instance(disk=[]), request())


# ---- NICs -----------------------------------------------------------------------------------
def test_mixed_nic_adapters():
    inst = instance(nic=[nic(0, adapter="E1000"), nic(1, vlan=200)])
    msg = only(inst, request())
    assert "web01: Multiple network adapter of different type (E1000, Vmxnet3) are not supported for import. " \
           "Please make sure that all network adapters are of the same type" in msg


def test_nic_without_vlan_needs_a_network():
    inst = instance(nic=[nic(0, vlan=0)])
    msg = only(inst, request())
    assert msg.startswith("web01: Suitable network for nic(ID: Network adapter 1) not found during VM import")
    assert "VLAN is 0" in msg
    assert problems(inst, request(nic_networks={"Network adapter 1": by_name(NETWORKS, "l2-untagged")})) == []


def test_nic_vlan_without_network_in_zone():
    msg = only(instance(nic=[nic(0, vlan=999)]), request())
    assert "Suitable network for nic(ID: Network adapter 1) not found" in msg


def test_pvlan_matched_and_mismatched():
    inst = instance(nic=[nic(0, vlan=300, pvlan=301, pvlantype="isolated")])
    found, nic_map = ci.check_import(inst, request(), ctx())
    assert found == [] and nic_map["Network adapter 1"]["name"] == "l2-pvlan300-i301"
    msg = only(inst, request(nic_networks={"Network adapter 1": by_name(NETWORKS, "l2-pvlan300-c302")}))
    assert "PVLAN of network(ID: n-302) pvlan://300-c302 is found different from the VLAN of nic(ID: Network " \
           "adapter 1) pvlan://300-i301 during VM import" in msg


def test_explicit_network_with_other_vlan():
    msg = only(instance(), request(nic_networks={"Network adapter 1": by_name(NETWORKS, "l2-vlan200")}))
    assert "VLAN of network(ID: n-200) vlan://200 is found different from the VLAN of nic(ID: Network adapter 1) " \
           "vlan://100 during VM import" in msg


def test_explicit_network_of_other_zone():
    other = {"id": "n-z2", "name": "zone2-vlan100", "type": "L2", "broadcasturi": "vlan://100", "zoneid": "z-2"}
    msg = only(instance(), request(nic_networks={"Network adapter 1": other}))
    assert "Network(ID: n-z2) for nic(ID: Network adapter 1) belongs to a different zone than VM to be imported" in msg


def test_shared_network_needs_ip():
    inst = instance(nic=[nic(0, vlan=400)])
    msg = only(inst, request())
    assert "web01: NIC(ID: Network adapter 1) needs a valid IP address for it to be associated with network(ID: " \
           "n-400). nicipaddresslist parameter of API can be used for this" in msg
    assert "nic_ip_addresses" in msg
    assert problems(inst, request(nic_ip_addresses={"Network adapter 1": "10.40.0.50"})) == []


def test_isolated_network_needs_ip_but_no_vlan_check():
    inst = instance(nic=[nic(0, vlan=123)])
    net = by_name(NETWORKS, "isolated-500")
    assert "needs a valid IP address" in only(inst, request(nic_networks={"Network adapter 1": net}))
    assert problems(inst, request(nic_networks={"Network adapter 1": net},
                                  nic_ip_addresses={"Network adapter 1": "10.50.0.9"})) == []


def test_ip_not_available():
    inst = instance(nic=[nic(0, vlan=400)])
    assert "IP address 10.40.0.10 for NIC(ID: Network adapter 1) is not available in network(ID: n-400)" in \
        only(inst, request(nic_ip_addresses={"Network adapter 1": "10.40.0.10"}))  # used by shared-vm
    assert "IP address 10.99.0.1 for NIC(ID: Network adapter 1) is not available" in \
        only(inst, request(nic_ip_addresses={"Network adapter 1": "10.99.0.1"}))  # outside the cidr


def test_ip_invalid():
    assert "IP address '10.40.0.300' for NIC ID: Network adapter 1 is invalid" in \
        problems(instance(nic=[nic(0, vlan=400)]), request(nic_ip_addresses={"Network adapter 1": "10.40.0.300"}))[0]


def test_auto_with_several_ips():
    inst = instance(nic=[nic(0, vlan=400, ips=["10.40.0.31", "10.40.0.32"])])
    msg = only(inst, request(nic_ip_addresses={"Network adapter 1": "auto"}))
    assert "web01: Multiple IP addresses (10.40.0.31, 10.40.0.32) present for nic ID: Network adapter 1. IP address " \
           "cannot be assigned automatically, only single IP address auto-assigning supported" in msg


def test_auto_with_one_ip_checks_that_ip():
    inst = instance(nic=[nic(0, vlan=400, ips=["10.40.0.10"])])
    assert "IP address 10.40.0.10 for NIC(ID: Network adapter 1) is not available" in \
        only(inst, request(nic_ip_addresses={"Network adapter 1": "auto"}))
    inst = instance(nic=[nic(0, vlan=400, ips=["10.40.0.77"])])
    assert problems(inst, request(nic_ip_addresses={"Network adapter 1": "auto"})) == []


def test_existing_mac_needs_forced():
    inst = instance(nic=[nic(0, mac="00:50:56:AA:00:01")])
    msg = only(inst, request())
    assert 'web01: NIC with MAC address 00:50:56:AA:00:01 exists on network Network {"id": "n-100", "name": ' \
           '"l2-vlan100", "uuid": "n-100"} and forced flag is disabled' in msg
    assert "forced: true" in msg
    assert problems(inst, request(forced=True)) == []


def test_host_name_already_in_network():
    msg = only(instance(), request(host_name="legacy-app"))
    assert 'VM with Name [legacy-app] already exists in the network [Network {"id": "n-100"' in msg
    assert "Cannot import another VM with the same name. Please try again with a different name." in msg


def test_mapping_names_a_nic_the_vm_lacks():
    msg = only(instance(), request(nic_networks={"Network adapter 9": by_name(NETWORKS, "l2-vlan100")}))
    assert "nic_networks names NIC 'Network adapter 9', which the VM does not have" in msg


def test_every_problem_is_reported_at_once():
    inst = instance(name="bad_vm", cpunumber=4, nic=[nic(0, adapter="E1000"), nic(1, vlan=0)],
                    disk=[disk("1", 0, 20, ds="orphan-ds"), disk("1", 1, 5)])
    found = problems(inst, request(name="bad_vm", offering="small-fixed"))
    text = "\n".join(found)
    for needle in ("valid hostname", "CPU cores do not match", "disk offering mappings provided",
                   "Storage pool for disk", "Multiple network adapter", "Suitable network for nic"):
        assert needle in text
    assert all(p.startswith("bad_vm: ") for p in found)


def test_checks_skip_what_the_context_lacks():
    """Without CloudStack (plan validation offline) names only: VM-side rules still apply."""
    inst = instance(nic=[nic(0, vlan=0), nic(1, vlan=400)])
    req = request(offering=None, nic_networks={"Network adapter 2": {"name": "shared"}})
    found = problems(inst, req, context={})
    assert len(found) == 1 and "Suitable network for nic(ID: Network adapter 1)" in found[0]


# ---- helpers and parameters -----------------------------------------------------------------
def test_broadcast_uri():
    assert ci.broadcast_uri({"vlanid": 0}) is None
    assert ci.broadcast_uri({"vlanid": 100}) == "vlan://100"
    assert ci.broadcast_uri({"vlanid": 300, "pvlanid": 302, "pvlantype": "community"}) == "pvlan://300-c302"
    assert ci.broadcast_uri({"vlanid": 300, "pvlanid": 300, "pvlantype": "promiscuous"}) == "pvlan://300-p300"


def test_match_network_by_vlan_skips_system_and_other_zones():
    nets = [{"id": "pub", "broadcasturi": "vlan://100", "traffictype": "Public", "zoneid": "z-1"},
            {"id": "z2", "broadcasturi": "vlan://100", "traffictype": "Guest", "zoneid": "z-2"},
            {"id": "ok", "broadcasturi": "vlan://100", "traffictype": "Guest", "zoneid": "z-1"},
            {"id": "later", "broadcasturi": "vlan://100", "traffictype": "Guest", "zoneid": "z-1"}]
    assert ci.match_network_by_vlan({"vlanid": 100}, nets, ZONE)["id"] == "ok"
    assert ci.match_network_by_vlan({"vlanid": 0}, nets, ZONE) is None


def test_build_api_params_exact():
    req = request(host_name="web-01", display_name="Web 01", account="finance-ops",
                  domain={"id": "d-fin", "path": "ROOT/finance"}, template=TEMPLATES[0],
                  nic_ip_addresses={"Network adapter 2": "auto"},
                  data_disk_offerings={"101-2001": by_name(DISK_OFFERINGS, "disk-100g")},
                  details={"cpuSpeed": 2000}, migrate_allowed=True)
    nic_map = {"Network adapter 2": by_name(NETWORKS, "shared-vlan400"),
               "Network adapter 1": by_name(NETWORKS, "l2-vlan100")}
    assert ci.build_api_params("c-1", req, nic_map) == {
        "clusterid": "c-1", "name": "web01", "serviceofferingid": "so-cc", "displayname": "Web 01",
        "hostname": "web-01", "templateid": "t-centos", "account": "finance-ops", "domainid": "d-fin",
        "nicnetworklist": [{"nic": "Network adapter 1", "network": "n-100"},
                           {"nic": "Network adapter 2", "network": "n-400"}],
        "nicipaddresslist": [{"nic": "Network adapter 2", "ip4Address": "auto"}],
        "datadiskofferinglist": [{"disk": "101-2001", "diskOffering": "do-100"}],
        "details": {"cpuSpeed": "2000"}, "migrateallowed": True, "forced": False}


def test_build_api_params_project_wins_and_minimal():
    req = request(offering="small-fixed", project={"id": "pr-web"}, account="x", domain={"id": "d"})
    params = ci.build_api_params("c-1", req, {})
    assert params == {"clusterid": "c-1", "name": "web01", "serviceofferingid": "so-small", "projectid": "pr-web",
                      "migrateallowed": False, "forced": False}


@pytest.mark.parametrize("text,expected", [
    ("", {}), (None, {}), ("Network adapter 1=net-a", {"Network adapter 1": "net-a"}),
    (" Network adapter 1 = net-a ; Network adapter 2=net-b;",
     {"Network adapter 1": "net-a", "Network adapter 2": "net-b"}),
    ("a=b=c", {"a": "b=c"}), ({"x": 1}, {"x": "1"}),
])
def test_parse_pairs(text, expected):
    assert ci.parse_pairs(text) == expected


@pytest.mark.parametrize("text,err", [("novalue", "is not KEY=VALUE"), ("=x", "empty key"), ("a=1;a=2", "twice")])
def test_parse_pairs_errors(text, err):
    with pytest.raises(ci.PairsError, match=err):
        ci.parse_pairs(text, "nic_networks")


def test_format_pairs_round_trip():
    m = {"Network adapter 1": "net-a", "Network adapter 2": "net-b"}
    assert ci.parse_pairs(ci.format_pairs(m)) == m


def test_managed_fixture_is_untouched():
    """check_import reads the context, never changes it."""
    before = repr(MANAGED) + repr(SERVICE_OFFERINGS)
    problems(instance(nic=[nic(0, mac="00:50:56:aa:00:01", vlan=400, ips=["1.2.3.4"])]),
             request(nic_ip_addresses={"Network adapter 1": "auto"}))
    assert repr(MANAGED) + repr(SERVICE_OFFERINGS) == before
