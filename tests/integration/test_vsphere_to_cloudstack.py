"""The vsphere_to_cloudstack role end to end on the sandbox (vcsim + CloudStack emulator):
stop for review, import in batches past a failing VM, report, re-run imports only what is
left, last re-run changes nothing."""

import csv
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

PLAYBOOK = "playbooks/vsphere_to_cloudstack.yml"
RULES = {"zone": "zone1", "networks": {"default": "l2-untagged"},
         "service_offerings": [{"service_offering": "custom-constrained"}],
         "data_disk_offerings": "disk-custom",
         "templates": [{"guest_os": "*", "template": "other-linux-template"}]}


def peer_of(sandbox, name):
    return next((p for p in sandbox.started if p.name == name), None)


def importable_vms(peer, count):
    """Names of unmanaged VMs the rules above import (the checks of the collection, live data)."""
    cat = csu.Catalog(csu.CloudStackClient(peer.api_url, peer.api_key, peer.secret_key))
    zone = cat.zone("zone1")
    cluster = cat.cluster(peer.inventory()["cloudstack_cluster"], zone)
    nets = cat.networks(zone["id"])
    untagged = next(n for n in nets if n["broadcasturi"] == "vlan://untagged")
    ctx = {"zone": zone, "cluster": cluster, "networks": nets, "vms": cat.virtual_machines(zone["id"]),
           "storage_pools": cat.storage_pools(zone["id"])}
    names = []
    for inst in sorted(cat.unmanaged(cluster["id"]), key=lambda i: i["name"]):
        req = {"name": inst["name"], "host_name": ci.sanitize_hostname(inst["name"]),
               "service_offering": cat.service_offering("custom-constrained"), "template": {"id": "t"},
               "nic_networks": dict((n["id"], untagged) for n in inst["nic"] if not ci.broadcast_uri(n)),
               "nic_ip_addresses": {}, "details": {}, "forced": False,
               "data_disk_offerings": dict((d["id"], cat.disk_offering("disk-custom")) for d in inst["disk"][1:])}
        if not ci.check_import(inst, req, ctx)[0]:
            names.append(inst["name"])
        if len(names) == count:
            return names
    pytest.skip("fewer than %d importable VMs in the sandbox vcsim" % count)


def report(plan_dir):
    with open(os.path.join(plan_dir, "report.json")) as f:
        data = json.load(f)
    with open(os.path.join(plan_dir, "report.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [dict(r) for r in rows] == [dict((k, str(v)) for k, v in d.items()) for d in data]
    return dict((r["vm"], r) for r in data)


def test_role_end_to_end_and_rerun(sandbox, run_playbook, tmp_path):
    if peer_of(sandbox, "vcsim") is None:
        pytest.skip("the sandbox has no vcsim peer")
    cs = peer_of(sandbox, "cloudstack")
    names = importable_vms(cs, 3)
    plan_dir = str(tmp_path)
    extra = {"cloudstack_import_rules": RULES, "cloudstack_import_plan_dir": plan_dir,
             "vcenter_validate_certs": False, "vsphere_to_cloudstack_names": names,
             "cloudstack_import_batch_size": 2, "vsphere_to_cloudstack_poll_interval": 1}
    imports_before = cs.admin("state")["requests"].get("importUnmanagedInstance", 0)

    # 1. discover and plan, then stop for the review
    first = run_playbook(PLAYBOOK, extravars=extra)
    assert first.rc == 0, first.stdout[-3000:]
    with open(os.path.join(plan_dir, "plan.csv")) as f:
        planned = list(csv.DictReader(f))
    assert sorted(r["name"] for r in planned) == sorted(names)
    assert all(r["service_offering"] == "custom-constrained" and r["zone"] == "zone1" for r in planned)
    assert os.path.exists(os.path.join(plan_dir, "plan.yml"))
    assert "run again with vsphere_to_cloudstack_plan_approved=true" in first.stdout
    assert cs.admin("state")["requests"].get("importUnmanagedInstance", 0) == imports_before
    assert not os.path.exists(os.path.join(plan_dir, "report.json"))

    # 2. approved: one import fails in CloudStack, the others go on; the role fails at the end
    cs.admin("faults", {"fail_next_import": "Failed to import vm name: planned failure"})
    second = run_playbook(PLAYBOOK, extravars=dict(extra, vsphere_to_cloudstack_plan_approved=True))
    assert second.rc != 0
    rep = report(plan_dir)
    outcomes = sorted(r["outcome"] for r in rep.values())
    assert outcomes == ["failed", "imported", "imported"], rep
    failed = next(r for r in rep.values() if r["outcome"] == "failed")
    assert "Failed to import vm name: planned failure" in failed["error"]
    assert "1 VM(s) not imported: %s" % failed["vm"] in second.stdout
    imported = [r for r in rep.values() if r["outcome"] == "imported"]
    managed = dict((v["instancename"], v["id"]) for v in cs.admin("state")["virtual_machines"])
    assert all(managed[r["vm"]] == r["cloudstack_id"] for r in imported)

    # 3. run again: only the failed VM is imported
    third = run_playbook(PLAYBOOK, extravars=dict(extra, vsphere_to_cloudstack_plan_approved=True))
    assert third.rc == 0, third.stdout[-3000:]
    rep = report(plan_dir)
    assert sorted(r["outcome"] for r in rep.values()) == ["imported"] * 3
    starts = third.result(task="Start the imports of the batch")["results"]
    assert [r["item"]["name"] for r in starts] == [failed["vm"]]
    assert "3 VM(s) in the plan - 2 already imported, 1 imported now;" in third.stdout

    # 4. and again: nothing changes
    fourth = run_playbook(PLAYBOOK, extravars=dict(extra, vsphere_to_cloudstack_plan_approved=True))
    assert fourth.rc == 0, fourth.stdout[-3000:]
    assert fourth.changed_count() == 0, [e["event_data"].get("task") for e in fourth.events
                                         if e.get("event") == "runner_on_ok" and
                                         e["event_data"].get("res", {}).get("changed")]
    assert fourth.results(task="Start the imports of the batch") == []


def test_role_fails_with_every_problem_before_importing(sandbox, run_playbook, tmp_path):
    if peer_of(sandbox, "vcsim") is None:
        pytest.skip("the sandbox has no vcsim peer")
    cs = peer_of(sandbox, "cloudstack")
    names = importable_vms(cs, 2)
    plan_dir = str(tmp_path)
    extra = {"cloudstack_import_rules": RULES, "cloudstack_import_plan_dir": plan_dir,
             "vcenter_validate_certs": False, "vsphere_to_cloudstack_names": names,
             "vsphere_to_cloudstack_auto_approve": True}
    with open(os.path.join(plan_dir, "plan.csv"), "w") as f:  # an operator's plan with mistakes
        f.write("name,zone,service_offering,host_name\n%s,zone1,no-such-offering,\n%s,zone1,custom-constrained,9bad\n"
                % tuple(names))
    imports_before = cs.admin("state")["requests"].get("importUnmanagedInstance", 0)
    run = run_playbook(PLAYBOOK, extravars=extra)
    assert run.rc != 0
    read = run.result(task="Read the plan and check every row against vSphere and CloudStack")
    texts = [p["text"] for p in read["problems"]]
    assert any("row 1 (%s): service offering 'no-such-offering' not found in CloudStack" % names[0] in t
               for t in texts), texts
    assert any("row 2 (%s): Invalid VM hostname." % names[1] in t for t in texts), texts
    assert cs.admin("state")["requests"].get("importUnmanagedInstance", 0) == imports_before
