"""vsphere_unmanaged_facts and vsphere_network_facts against the sandbox vcsim.

The vcsim inventory (sandbox/peers/vcsim.py): DC0 and DC1, each with cluster C0 (hosts H0, H1)
and a standalone host H0, 4 VMs per host, 2 templates, standard portgroups DC0_VLAN100/101 and
DC0_ALLVLANS (4095) on vSwitch1, DC0_DVS0 with DC0_DVPG0/1 (VLAN 200/201), PVLAN portgroups
(primary 300: isolated 301, community 302, promiscuous 300) and DC0_TRUNK0 (400-409, 4000), and the
SHOWCASE VMs reconfigured through the API.
"""

import os
import sys

import pytest

from sandbox.launcher import Sandbox
from sandbox.peers.vcsim import VcsimPeer

UNMANAGED = "vmimport.migrate.vsphere_unmanaged_facts"
NETWORKS = "vmimport.migrate.vsphere_network_facts"
CONN = {
    "hostname": "{{ vcenter_hostname }}",
    "port": "{{ vcenter_port }}",
    "username": "{{ vcenter_username }}",
    "password": "{{ vcenter_password }}",
    "validate_certs": "{{ vcenter_validate_certs }}",
}


# These tests need the vcsim peer only: start just that (a session sandbox with every peer
# would also do, but costs the other peers' start-up when this file runs alone).
@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with Sandbox(only=["vcsim"], state_dir=str(tmp_path_factory.mktemp("vsphere-sandbox"))) as sb:
        yield sb


@pytest.fixture(scope="module")
def vcsim(sandbox):
    return sandbox.ctx.peers["vcsim"]


def play(module, args=None, register="out"):
    task = {"name": "facts", module: dict(CONN, **(args or {})), "register": register}
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]


def facts(run_playbook, module, args=None, extravars=None, verbosity=0):
    run = run_playbook(play(module, args), extravars=extravars, verbosity=verbosity)
    assert run.rc == 0, run.stdout[-3000:]
    return run.result(task="facts")


UNSCOPED = []


def by_name(instances):
    return dict((i["name"], i) for i in instances)


def test_unmanaged_facts_shape(run_playbook):
    res = facts(run_playbook, UNMANAGED, {"datacenter": "DC0", "exclude": ["i-2-34-VM"]})
    assert res["changed"] is False
    vms = by_name(res["instances"])
    # templates are never instances; the CloudStack-managed VM is excluded by its internal name
    assert res["templates"] == ["DC0_TPL0", "DC0_TPL1"]
    assert not any(n.startswith("DC0_TPL") for n in vms)
    assert res["excluded"] == ["managed-01"] and "managed-01" not in vms
    assert len(vms) == 12 - 1  # 3 hosts x 4 VMs in DC0, minus the managed one

    app = vms["app-multi-01"]
    assert (app["cluster"], app["host"], app["datacenter"], app["powerstate"]) == ("DC0_C0", "DC0_C0_H0", "DC0",
                                                                                   "PowerOn")
    assert app["osdisplayname"] == "CentOS 7 (64-bit)" and app["osid"] == "centos7_64Guest"
    assert app["cpuspeed"] == 2294  # running: maxCpuUsage / CPUs, not the reservation
    disks = app["disk"]
    assert [(d["label"], d["controller"], d["controllerunit"], d["position"]) for d in disks] == [
        ("Hard disk 1", "pvscsi", 0, 0), ("Hard disk 2", "lsilogic", 1, 0), ("Hard disk 3", "lsilogic", 1, 1)]
    assert disks[0]["id"] == "%s-2000" % app["moid"].split("-")[1]
    assert (disks[0]["datastorename"], disks[0]["datastoretype"]) == ("LocalDS_0", "VMFS")
    assert (disks[1]["datastorename"], disks[1]["datastoretype"], disks[1]["datastorehost"],
            disks[1]["datastorepath"], disks[1]["capacity"]) == ("DC0_NFS0", "NFS", "192.0.2.10", "/export/dc0", 8 << 30)
    nics = app["nic"]
    assert [n["id"] for n in nics] == ["Network adapter %d" % i for i in (1, 2, 3, 4)]
    assert [n["pcislot"] for n in nics] == ["160", "192", "224", "256"]
    n2, n3, n4 = nics[1:]
    assert (n2["networkname"], n2["vlanid"], n2["adaptertype"], n2["switchname"], n2["switchtype"]) == \
        ("DC0_VLAN101", 101, "E1000", "vSwitch1", "standard")
    assert (n3["networkname"], n3["vlanid"], n3["pvlanid"], n3["pvlantype"], n3["switchname"]) == \
        ("DC0_PVLAN_isolated", 300, 301, "isolated", "DC0_DVS0")
    assert (n4["networkname"], n4["vlanid"], n4["pvlanid"], n4["vlantrunk"]) == \
        ("DC0_TRUNK0", 0, None, ["400-409", "4000"])
    # VMware Tools OK: IPv4 addresses only
    assert [n["ipaddress"] for n in nics] == [["10.1.0.10"], ["10.1.1.10"], ["10.1.4.10"], ["10.1.5.10"]]

    db = vms["db-sata-01"]
    assert (db["powerstate"], db["cpuspeed"]) == ("PowerOff", 1500)  # stopped: the CPU reservation
    assert [d["controller"] for d in db["disk"]] == ["pvscsi", "sata"]
    assert (db["nic"][-1]["pvlanid"], db["nic"][-1]["pvlantype"]) == (302, "community")
    assert vms["web-multiip-01"]["nic"][0]["ipaddress"] == ["10.2.0.11", "10.2.0.12"]
    assert vms["tools-stale-01"]["nic"][0]["ipaddress"] == []  # tools not running: no IP
    assert vms["DC0_H0_VM0"]["cluster"] is None  # standalone host


def test_unmanaged_facts_tags(run_playbook, vcsim):
    vcsim.reset_stats()
    res = facts(run_playbook, UNMANAGED, {"tags": True, "datacenter": "DC0", "cluster": "DC0_C0"})
    vms = by_name(res["instances"])
    assert (vms["app-multi-01"]["tags"], vms["app-multi-01"]["tagcategories"]) == (
        ["finance", "gold"], {"Owner": ["finance"], "Tier": ["gold"]})
    assert vms["db-sata-01"]["tags"] == ["finance"]
    assert vms["web-multiip-01"]["tagcategories"] == {"Owner": ["web-team"]}
    assert vms["tools-stale-01"]["tags"] == [] and vms["tools-stale-01"]["tagcategories"] == {}
    methods = vcsim.stats()["methods"]
    # vcsim has only the older /rest API: /api is tried first; then one listing for all VMs
    assert methods["POST /api/session"] == 1
    assert methods["POST /rest/com/vmware/cis/tagging/tag-association"] == 1
    assert methods["GET /rest/com/vmware/cis/tagging/tag/id:*"] == 3
    assert methods["GET /rest/com/vmware/cis/tagging/category/id:*"] == 2


@pytest.mark.parametrize("scope,check", [
    ({"datacenter": "DC0", "cluster": "DC0_C0"}, lambda i: i["cluster"] == "DC0_C0"),
    ({"host": "DC1_H0"}, lambda i: i["host"] == "DC1_H0"),
    ({"datacenter": "DC0", "folder": "Apps"}, lambda i: i["folder"].startswith("/DC0/vm/Apps")),
    ({"folder": "/DC1/vm/Apps/Web"}, lambda i: i["folder"] == "/DC1/vm/Apps/Web"),
    ({"datacenter": "DC1"}, lambda i: i["datacenter"] == "DC1"),
])
def test_unmanaged_facts_scope(run_playbook, scope, check):
    if not UNSCOPED:  # the unscoped listing, once for all parameters
        UNSCOPED.extend(facts(run_playbook, UNMANAGED)["instances"])
    everything = UNSCOPED
    scoped = facts(run_playbook, UNMANAGED, scope)["instances"]
    assert scoped and len(scoped) < len(everything)
    assert sorted(i["name"] for i in scoped) == sorted(i["name"] for i in everything if check(i))


def test_unknown_scope_names_the_object_and_the_choices(run_playbook):
    run = run_playbook(play(UNMANAGED, {"cluster": "DC0_C9", "datacenter": "DC0"}))
    assert run.rc != 0
    res = run.result(task="facts")
    assert res["msg"] == "cluster 'DC0_C9' not found in datacenter 'DC0'; clusters: DC0_C0"


def test_network_facts(run_playbook):
    nets = facts(run_playbook, NETWORKS, {"datacenter": "DC0"})["networks"]
    pg = dict((n["portgroup"], n) for n in nets)
    assert not any("DVUplinks" in name for name in pg)
    dc0_hosts = ["DC0_C0_H0", "DC0_C0_H1", "DC0_H0"]

    std = pg["DC0_VLAN101"]
    assert (std["switch"], std["switchtype"], std["vlantype"], std["vlanid"], std["hosts"], std["clusters"]) == \
        ("vSwitch1", "standard", "vlan", 101, dc0_hosts, ["DC0_C0"])
    assert {"name": "app-multi-01", "nics": ["Network adapter 2"]} in [
        {"name": v["name"], "nics": [n["id"] for n in v["nics"]]} for v in std["virtualmachines"]]
    allv = pg["DC0_ALLVLANS"]
    assert (allv["vlantype"], allv["vlanid"], allv["vlantrunk"]) == ("trunk", 0, ["0-4094"])

    dvpg = pg["DC0_DVPG1"]
    assert (dvpg["switch"], dvpg["switchtype"], dvpg["vlantype"], dvpg["vlanid"], dvpg["hosts"]) == \
        ("DC0_DVS0", "distributed", "vlan", 201, dc0_hosts)
    for kind, secondary in (("isolated", 301), ("community", 302), ("promiscuous", 300)):
        p = pg["DC0_PVLAN_%s" % kind]
        assert (p["vlantype"], p["vlanid"], p["pvlanid"], p["pvlantype"]) == ("pvlan", 300, secondary, kind)
    assert [v["name"] for v in pg["DC0_PVLAN_isolated"]["virtualmachines"]] == ["app-multi-01"]
    trunk = pg["DC0_TRUNK0"]
    assert (trunk["vlantype"], trunk["vlanid"], trunk["vlantrunk"]) == ("trunk", 0, ["400-409", "4000"])
    # templates have NICs too, but are never listed
    assert not any(v["name"].startswith("DC0_TPL") for n in nets for v in n["virtualmachines"])
    assert all(n["datacenter"] == "DC0" for n in nets)


def test_network_facts_cluster_filter(run_playbook):
    nets = facts(run_playbook, NETWORKS, {"datacenter": "DC0", "cluster": "DC0_C0", "used_only": True})["networks"]
    assert nets
    for n in nets:
        assert n["hosts"] and all(h.startswith("DC0_C0_") for h in n["hosts"]), n
        assert n["clusters"] == ["DC0_C0"]
        assert n["virtualmachines"]
        assert all(v["host"].startswith("DC0_C0_") for v in n["virtualmachines"])


def test_request_count_does_not_grow_with_vms(run_playbook, sandbox, vcsim):
    """Same number of vCenter requests for 28 VMs and for 244; paging adds one request per page."""
    big = VcsimPeer(sandbox.ctx, name="vcsim-big", vms_per_host=40, showcase=False)
    big.prepare()
    big.start()
    try:
        big.after_start()
        counts = {}
        for peer in (vcsim, big):
            peer.reset_stats()
            res = facts(run_playbook, UNMANAGED, extravars=peer.inventory())
            counts[peer.name] = (len(res["instances"]) + len(res["templates"]), peer.stats())
        (small_n, small), (big_n, large) = counts["vcsim"], counts["vcsim-big"]
        assert (small_n, big_n) == (6 * 4 + 4, 6 * 40 + 4)
        assert small["requests"] == large["requests"], (small, large)
        assert small["requests"] <= 12, small
        assert small["methods"]["RetrievePropertiesEx"] == 2  # one inventory pass, one VM pass

        # pages of 50 objects, as vCenter pages: ContinueRetrievePropertiesEx until no token, same VMs
        big.reset_stats()
        paged = facts(run_playbook, UNMANAGED, {"page_size": 50}, extravars=big.inventory())
        stats = big.stats()["methods"]
        assert len(paged["instances"]) + len(paged["templates"]) == big_n
        assert stats["RetrievePropertiesEx"] == 2
        assert stats["ContinueRetrievePropertiesEx"] >= -(-big_n // 50) - 1
    finally:
        big.stop()


def test_password_absent_from_verbose_output(run_playbook, vcsim):
    run = run_playbook(play(UNMANAGED, {"names": ["app-multi-01"]}), verbosity=3)
    assert run.rc == 0
    assert "app-multi-01" in run.stdout
    assert vcsim.password not in run.stdout
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.stdout or "********" in run.stdout


@pytest.mark.parametrize("override,fragment", [
    ({"password": "not-the-password"}, "refused the login of 'administrator@vsphere.local': incorrect user name "
                                       "or password"),
    ({"port": "{{ unused_port }}"}, "cannot connect to vCenter 127.0.0.1:{port}"),
])
def test_connection_failures_are_one_clear_error(run_playbook, override, fragment):
    from sandbox.peers.base import free_port
    port = free_port()
    for module in (UNMANAGED, NETWORKS):
        run = run_playbook(play(module, override), extravars={"unused_port": port}, verbosity=1)
        assert run.rc != 0
        res = run.result(task="facts")
        assert fragment.format(port=port) in res["msg"]
        # one message, no traceback (ansible-core 2.19 marks every failure "(traceback unavailable)")
        assert "Traceback" not in run.stdout
        assert res.get("exception") in (None, "(traceback unavailable)")
        assert "not-the-password" not in run.stdout


def test_env_fallbacks(run_playbook, vcsim):
    env = {"VMWARE_HOST": "127.0.0.1", "VMWARE_PORT": str(vcsim.port), "VMWARE_USER": vcsim.username,
           "VMWARE_PASSWORD": vcsim.password, "VMWARE_VALIDATE_CERTS": "false"}
    run = run_playbook([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "facts", NETWORKS: {"host": "DC0_H0"}}]}], envvars=dict(os.environ, **env))
    assert run.rc == 0, run.stdout[-2000:]
    assert run.result(task="facts")["networks"]


def test_fast_path_reads_what_pyvmomi_reads(vcsim):
    """The SOAP answers parsed straight into plain data equal pyVmomi's objects passed through to_plain."""
    collections = os.environ.get("VMIMPORT_COLLECTIONS_PATH",
                                 os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                                     os.path.abspath(__file__)))), ".build", "collections"))
    if collections not in sys.path:
        sys.path.insert(0, collections)
    from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere import (
        IGNORED_DEVICE_TYPES, VsphereClient)
    from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import VM_PROPERTIES

    def listing(fast):
        with VsphereClient("127.0.0.1", vcsim.username, vcsim.password, port=vcsim.port,
                           validate_certs=False) as client:
            client.fast = fast
            inventory = client.inventory()
            vms = client.virtual_machines(inventory, None, VM_PROPERTIES, page_size=7)
            assert client.fast is fast
            return inventory.objects, vms

    fast_inventory, fast_vms = listing(None)
    slow_inventory, slow_vms = listing(False)
    for objects in (fast_inventory, slow_inventory):  # what changes between two reads
        for props in objects.values():
            for key in ("freeSpace", "timestamp", "maxVirtualDiskCapacity"):
                (props.get("info") or {}).pop(key, None)
    for moid in fast_inventory:
        assert fast_inventory[moid] == slow_inventory[moid], moid
    for props in slow_vms.values():
        props["config.hardware.device"] = [d for d in props.get("config.hardware.device", [])
                                           if d["_type"] not in IGNORED_DEVICE_TYPES]
    assert fast_vms == slow_vms
    assert len(fast_vms) == 28
