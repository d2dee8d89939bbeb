"""CloudStack import modules against the CloudStack emulator, through real playbooks.

- The sandbox's cloudstack peer (unmanaged VMs from vcsim when the sandbox has it, else from
  sandbox/emulators/cloudstack_unmanaged.json): import one VM, run again (no change), the VM is
  then managed and no longer unmanaged.
- A second emulator started here from the JSON file, whose VMs each break one rule: every rule
  fails through the module before the call with CloudStack's wording and the VM name, and the
  emulator (CloudStack's own checks, precheck off) answers the same wording.
- Plan write/read through the module; secrets absent from -vvv output.
"""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu  # noqa: E402
from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack_import as ci  # noqa: E402
from sandbox.peers.base import Context  # noqa: E402
from sandbox.peers.cloudstack import CloudstackPeer  # noqa: E402

M = "vmimport.migrate.cloudstack_unmanaged_import"


def peer_of(sandbox, name):
    return next(p for p in sandbox.started if p.name == name)


@pytest.fixture(scope="module")
def json_emulator(tmp_path_factory):
    """A CloudStack emulator of our own, backed by the JSON VMs (whatever the sandbox has)."""
    ctx = Context(str(tmp_path_factory.mktemp("cs-json")), ROOT)
    peer = CloudstackPeer(ctx)
    peer.prepare()
    peer.start()
    peer.after_start()
    try:
        yield peer
    finally:
        peer.stop()


def auth_vars(peer):
    inv = peer.inventory()
    return {"emu_url": inv["cloudstack_api_url"], "emu_key": inv["cloudstack_api_key"],
            "emu_secret": inv["cloudstack_api_secret"], "emu_zone": inv["cloudstack_zone"],
            "emu_cluster": inv["cloudstack_cluster"]}


def play(tasks, gather=False):
    return [{"hosts": "localhost", "gather_facts": gather,
             "module_defaults": {"group/vmimport.migrate.cloudstack": {
                 "api_url": "{{ emu_url }}", "api_key": "{{ emu_key }}", "api_secret": "{{ emu_secret }}"}},
             "tasks": tasks}]


def catalog_of(peer):
    inv = peer.inventory()
    return csu.Catalog(csu.CloudStackClient(inv["cloudstack_api_url"], inv["cloudstack_api_key"],
                                            inv["cloudstack_api_secret"]))


def importable(peer):
    """(instance, module args) of an unmanaged VM the collection's checks accept, from the live emulator."""
    cat = catalog_of(peer)
    zone = cat.zone(peer.inventory()["cloudstack_zone"])
    cluster = cat.cluster(peer.inventory()["cloudstack_cluster"], zone)
    networks = cat.networks(zone["id"])
    untagged = next(n for n in networks if n["broadcasturi"] == "vlan://untagged")
    ctx = {"zone": zone, "cluster": cluster, "networks": networks, "vms": cat.virtual_machines(zone["id"]),
           "os_types": cat.os_types(), "os_mappings": cat.os_mappings(),
           "storage_pools": cat.storage_pools(zone["id"]), "hypervisor_version": "7.0"}
    template = cat.template("other-linux-template", zone)
    for inst in cat.unmanaged(cluster["id"]):
        args = {"name": inst["name"], "zone": zone["name"], "cluster": cluster["name"],
                "service_offering": "custom-constrained", "host_name": ci.sanitize_hostname("imported-" + inst["name"]),
                "nic_networks": dict((n["id"], "l2-untagged") for n in inst.get("nic") or [] if not n.get("vlanid")),
                "data_disk_offerings": dict((d["id"], "disk-custom") for d in (inst.get("disk") or [])[1:])}
        req = {"name": inst["name"], "host_name": args["host_name"],
               "service_offering": cat.service_offering("custom-constrained"), "template": None,
               "nic_networks": dict((k, untagged) for k in args["nic_networks"]),
               "nic_ip_addresses": {}, "details": {}, "forced": False,
               "data_disk_offerings": dict((k, cat.disk_offering(v)) for k, v in args["data_disk_offerings"].items())}
        problems, dummy = ci.check_import(inst, req, ctx)
        if problems and all(p.rule == "guest_os" for p in problems):
            args["template"] = template["name"]
            problems = []
        if not problems:
            return inst, args
    pytest.fail("no unmanaged VM of %s can be imported with the generic arguments" % cluster["name"])


# ------------------------------------------------------------------------------------------------
def test_import_one_vm_then_no_change(sandbox, run_playbook):
    peer = peer_of(sandbox, "cloudstack")
    inst, args = importable(peer)
    task = {"name": "import", M: dict(args, poll_interval=0.2), "register": "imported"}
    first = run_playbook(play([task]), extravars=auth_vars(peer))
    res = first.result(task="import")
    assert first.rc == 0, first.stdout[-3000:]
    assert res["changed"] is True and res["job_id"]
    vm = res["virtual_machine"]
    assert vm["instancename"] == inst["name"] and vm["name"] == args["host_name"]
    assert sorted(n["nic"] for n in res["api_params"].get("nicnetworklist", [])) == sorted(n["id"] for n in inst["nic"])
    second = run_playbook(play([task]), extravars=auth_vars(peer))
    again = second.result(task="import")
    assert second.rc == 0 and again["changed"] is False
    assert again["virtual_machine"]["id"] == vm["id"]
    cat = catalog_of(peer)
    cluster = cat.cluster(args["cluster"], cat.zone(args["zone"]))
    assert inst["name"] not in [i["name"] for i in cat.unmanaged(cluster["id"])]
    state = peer.admin("state")
    assert state["requests"]["importUnmanagedInstance"] >= 1
    assert any(v["instancename"] == inst["name"] for v in state["virtual_machines"])


WEB01_DISKS = {"101-2001": "disk-100g"}
RULE_CASES = [
    # (case, module args, CloudStack wording the precheck and CloudStack itself both give)
    ("hostname_from_name", {"name": "bad_name.example"},
     "Please provide a valid hostname for the VM. VM name contains unsupported characters that cannot be used as "
     "hostname."),
    ("hostname", {"name": "web01", "host_name": "9web", "data_disk_offerings": WEB01_DISKS},
     "Invalid VM hostname. VM hostname can contain ASCII letters 'a' through 'z', the digits '0' through '9', and "
     "the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start "
     "with digit"),
    ("fixed_offering_running", {"name": "app-running-big", "service_offering": "small-fixed"},
     "1 CPU cores do not match VM CPU cores 4 and VM is not in powered off state (Power state: PowerOn)"),
    ("custom_unconstrained_speed", {"name": "web01", "service_offering": "custom-unconstrained",
                                    "data_disk_offerings": WEB01_DISKS},
     "Invalid cpu speed value, specify a value between 1 and 2147483647"),
    ("data_disks_n_minus_1", {"name": "db01", "service_offering": "custom-constrained"},
     "VM has total 3 disks for which 0 disk offering mappings provided. 2 disks need a disk offering for import"),
    ("disk_controllers", {"name": "app-mixed-ctrl", "data_disk_offerings": {"105-2001": "disk-10g",
                                                                            "105-2002": "disk-10g"}},
     "Multiple data disk controllers of different type (lsilogic, pvscsi) are not supported for import. Please make "
     "sure that all data disk controllers are of the same type"),
    ("storage_pool", {"name": "app-orphan-ds"},
     "Storage pool for disk Hard disk 1(110-2000) with datastore: orphan-ds not found in zone ID: "),
    ("nic_adapters", {"name": "app-mixed-nics"},
     "Multiple network adapter of different type (E1000, Vmxnet3) are not supported for import. Please make sure "
     "that all network adapters are of the same type"),
    ("nic_without_network", {"name": "app-novlan"},
     "Suitable network for nic(ID: Network adapter 1) not found during VM import"),
    ("vlan_mismatch", {"name": "web01", "data_disk_offerings": WEB01_DISKS,
                       "nic_networks": {"Network adapter 1": "l2-vlan200"}},
     "is found different from the VLAN of nic(ID: Network adapter 1) vlan://100 during VM import"),
    ("shared_needs_ip", {"name": "app-shared-noip"},
     "NIC(ID: Network adapter 1) needs a valid IP address for it to be associated with network(ID: "),
    ("auto_several_ips", {"name": "app-multi-ip", "nic_ip_addresses": {"Network adapter 1": "auto"}},
     "Multiple IP addresses (10.40.0.31, 10.40.0.32) present for nic ID: Network adapter 1. IP address cannot be "
     "assigned automatically, only single IP address auto-assigning supported"),
    ("hostname_in_network", {"name": "web01", "host_name": "legacy-app", "data_disk_offerings": WEB01_DISKS},
     "VM with Name [legacy-app] already exists in the network"),
    ("existing_mac", {"name": "app-dup-mac"},
     "NIC with MAC address 00:50:56:aa:00:01 exists on network "),
    ("guest_os", {"name": "app-unknown-os"},
     "Unable to retrieve guest OS details for unmanaged VM: app-unknown-os with OS name: Plan 9 (64-bit), OS ID: "
     "plan9_64Guest for hypervisor: VMware version: 7.0. templateid parameter can be used to assign template for VM"),
]


def test_every_rule_fails_with_cloudstack_wording(json_emulator, run_playbook):
    json_emulator.admin("reset", {})
    base = {"zone": "{{ emu_zone }}", "cluster": "{{ emu_cluster }}", "service_offering": "custom-constrained",
            "poll_interval": 0.1}
    tasks = []
    for case, args, dummy in RULE_CASES:
        tasks.append({"name": "precheck %s" % case, M: dict(base, **args), "ignore_errors": True})
        tasks.append({"name": "cloudstack %s" % case, M: dict(base, precheck=False, **args), "ignore_errors": True})
    run = run_playbook(play(tasks), extravars=auth_vars(json_emulator))
    assert run.rc == 0, run.stdout[-3000:]
    for case, args, wording in RULE_CASES:
        pre = run.result(task="precheck %s" % case)
        assert pre["_event"] == "runner_on_failed", (case, pre)
        assert wording in pre["msg"], (case, pre["msg"])
        assert "%s: " % args["name"] in pre["msg"], (case, pre["msg"])
        assert "job_id" not in pre, case
        cs = run.result(task="cloudstack %s" % case)
        assert cs["_event"] == "runner_on_failed", (case, cs)
        assert wording in cs["msg"], (case, cs["msg"])
    state = json_emulator.admin("state")
    assert state["requests"]["importUnmanagedInstance"] == len(RULE_CASES)  # only the precheck=false ones
    assert len(state["virtual_machines"]) == 2  # the seed's, nothing imported


def test_fixes_make_the_imports_pass(json_emulator, run_playbook):
    json_emulator.admin("reset", {})
    base = {"zone": "{{ emu_zone }}", "cluster": "{{ emu_cluster }}", "service_offering": "custom-constrained",
            "poll_interval": 0.1}
    tasks = [
        {"name": "forced", M: dict(base, name="app-dup-mac", forced=True)},
        {"name": "template", M: dict(base, name="app-unknown-os", template="other-linux-template")},
        {"name": "explicit ip", M: dict(base, name="app-shared-noip",
                                        nic_ip_addresses={"Network adapter 1": "10.40.0.150"})},
        {"name": "pvlan and owner", M: dict(base, name="app-pvlan", domain="ROOT/finance", account="finance-ops")},
        {"name": "fixed offering on a stopped VM", M: dict(base, name="db01", service_offering="large-fixed",
                                                           data_disk_offerings={"102-2001": "disk-100g",
                                                                                "102-2002": "disk-100g"},
                                                           nic_ip_addresses={"Network adapter 2": "auto"})},
    ]
    run = run_playbook(play(tasks), extravars=auth_vars(json_emulator))
    assert run.rc == 0, run.stdout[-3000:]
    vms = dict((v["instancename"], v) for v in json_emulator.admin("state")["virtual_machines"])
    assert vms["app-dup-mac"]["nic"][0]["macaddress"] != "00:50:56:aa:00:01"  # a new MAC
    assert vms["app-shared-noip"]["nic"][0]["ipaddress"] == "10.40.0.150"
    assert vms["app-pvlan"]["nic"][0]["networkname"] == "l2-pvlan300-i301"
    assert vms["app-pvlan"]["account"] == "finance-ops"
    assert vms["db01"]["nic"][1]["ipaddress"] == "10.40.0.21" and vms["db01"]["state"] == "Stopped"
    assert run.result(task="template")["virtual_machine"]["templatename"] == "other-linux-template"


def test_plan_write_read_against_cloudstack(json_emulator, run_playbook, tmp_path):
    json_emulator.admin("reset", {})
    with open(os.path.join(ROOT, "sandbox", "emulators", "cloudstack_unmanaged.json")) as f:
        facts = json.load(f)["instances"]
    rules = {"zone": "zone1", "networks": {"by_portgroup": {"VM Network": "l2-untagged"}},
             "service_offerings": [{"service_offering": "custom-constrained", "cpu_speed": 1000}],
             "data_disk_offerings": [{"disk_offering": "disk-custom"}],
             "owners": [{"folder": "/DC0/vm/finance*", "domain": "ROOT/finance", "account": "finance-ops"}]}
    csv_path = str(tmp_path / "plan.csv")
    tasks = [
        {"name": "write", "vmimport.migrate.cloudstack_import_plan": {
            "state": "write", "instances": facts, "rules": rules, "csv_path": csv_path,
            "yaml_path": str(tmp_path / "plan.yml")}},
        {"name": "write again", "vmimport.migrate.cloudstack_import_plan": {
            "state": "write", "instances": facts, "rules": rules, "csv_path": csv_path,
            "yaml_path": str(tmp_path / "plan.yml")}},
        {"name": "import web01", M: {"name": "web01", "zone": "zone1", "cluster": "DC0_C0",
                                     "service_offering": "custom-constrained",
                                     "data_disk_offerings": WEB01_DISKS, "poll_interval": 0.1}},
        {"name": "read", "vmimport.migrate.cloudstack_import_plan": {
            "state": "read", "path": csv_path, "instances": facts}, "ignore_errors": True},
    ]
    run = run_playbook(play(tasks), extravars=auth_vars(json_emulator))
    written = run.result(task="write")
    assert written["changed"] is True
    assert sorted(written["excluded"]) == ["legacy-app", "s-1-VM"]  # CloudStack manages them
    assert "legacy-app" not in [r["name"] for r in written["rows"]]
    assert run.result(task="write again")["changed"] is False
    read = run.result(task="read")
    assert read["_event"] == "runner_on_failed"
    texts = "\n".join(p["text"] for p in read["problems"])
    # rows whose VM breaks a rule are reported, every one of them, with CloudStack's wording
    for vm, wording in (("app-mixed-nics", "Multiple network adapter of different type"),
                        ("app-orphan-ds", "Storage pool for disk"),
                        ("app-unknown-os", "Unable to retrieve guest OS details"),
                        ("app-multi-ip", "needs a valid IP"),
                        ("app-dup-mac", "and forced flag is disabled"),
                        ("app-trunk", "Suitable network for nic")):
        assert any(p["vm"] == vm and wording in p["message"] for p in read["problems"]), (vm, texts)
    status = dict((r["name"], r["status"]) for r in read["rows"])
    assert status["web01"] == "managed"  # imported between write and read: nothing left to do
    assert status["app-pvlan"] == "ready"
    assert "web01" not in [i["name"] for i in read["imports"]]
    # the writer derived a valid host name from the invalid VM name
    bad = next(r for r in read["rows"] if r["name"] == "bad_name.example")
    assert bad["status"] == "ready" and bad["options"]["host_name"] == "bad-name-example"
    assert next(r for r in read["rows"] if r["name"] == "db01")["options"]["account"] == "finance-ops"


def test_secrets_absent_from_verbose_output(json_emulator, run_playbook):
    json_emulator.admin("reset", {})
    v = auth_vars(json_emulator)
    tasks = [
        {"name": "check mode import", M: {"name": "web01", "zone": "zone1", "cluster": "DC0_C0",
                                          "service_offering": "custom-constrained",
                                          "data_disk_offerings": WEB01_DISKS}, "check_mode": True},
        {"name": "failing import", M: {"name": "app-novlan", "zone": "zone1", "cluster": "DC0_C0",
                                       "service_offering": "custom-constrained", "api_key": "{{ emu_key }}",
                                       "api_secret": "{{ emu_secret }}"}, "ignore_errors": True},
        {"name": "wrong secret", M: {"name": "web01", "zone": "zone1", "cluster": "DC0_C0",
                                     "service_offering": "custom-constrained",
                                     "api_secret": "{{ emu_secret | reverse }}"}, "ignore_errors": True},
    ]
    run = run_playbook(play(tasks), extravars=v, verbosity=3)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result(task="check mode import")["api_params"]["name"] == "web01"
    wrong = run.result(task="wrong secret")
    assert "unable to verify user credentials and/or request signature" in wrong["msg"]
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.stdout  # -vvv shows the invocation, masked
    for secret in (v["emu_key"], v["emu_secret"], v["emu_secret"][::-1]):
        assert secret not in run.stdout
        assert all(secret not in json.dumps(ev) for ev in run.events)
