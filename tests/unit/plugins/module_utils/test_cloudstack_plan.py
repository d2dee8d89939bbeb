"""The import plan: rows from rules, CSV/YAML round trips, merge, validation of every row."""

import time

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu
from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack_plan as cp
from ansible_collections.vmimport.migrate.tests.unit.cloudstack_fake import (
    NETWORKS, ZONE, FakeCs, disk, instance, nic,
)

RULES = {
    "zone": "zone1",
    "networks": {"by_portgroup": {"VM Network": "l2-untagged"},
                 "by_vlan": {100: "l2-vlan100", "200": "l2-vlan200", "pvlan://300-i301": "l2-pvlan300-i301",
                             "400": "shared-vlan400"}},
    "auto_ip_networks": ["shared-vlan400"],
    "service_offerings": [
        {"cpu": 1, "memory_mb": 1024, "service_offering": "small-fixed"},
        {"cpu_min": 4, "memory_min_mb": 8192, "power_state": "PowerOff", "service_offering": "large-fixed"},
        {"service_offering": "custom-constrained", "cpu_speed": 1000},
    ],
    "data_disk_offerings": [{"max_gb": 10, "disk_offering": "disk-10g"}, {"max_gb": 100, "disk_offering": "disk-100g"},
                            {"disk_offering": "disk-custom"}],
    "owners": [{"folder": "/DC0/vm/finance*", "domain": "ROOT/finance", "account": "finance-ops"},
               {"tag": "team:web", "project": "web"}],
    "templates": [{"guest_os": "rhel8*", "template": "centos7-template"}],
}


def vms():
    return [
        instance("web01", "101", folder="/DC0/vm/web", tags=["team:web"],
                 disk=[disk("101", 0, 20), disk("101", 1, 50)], nic=[nic(0, vlan=100)]),
        instance("db01", "102", powerstate="PowerOff", cpunumber=4, memory=8192, osid="rhel8_64Guest",
                 osdisplayname="Red Hat Enterprise Linux 8 (64-bit)", folder="/DC0/vm/finance/db",
                 disk=[disk("102", 0, 40, "pvscsi"), disk("102", 1, 8, "pvscsi"), disk("102", 2, 500, "pvscsi")],
                 nic=[nic(0, vlan=200), nic(1, vlan=400, ips=["10.40.0.21"])]),
        instance("Bad_Name", "103", nic=[dict(nic(0, vlan=0), networkname="VM Network")]),
        instance("app-pvlan", "104", nic=[nic(0, vlan=300, pvlan=301, pvlantype="isolated")]),
        instance("app-multi-ip", "105", nic=[nic(0, vlan=400, ips=["10.40.0.31", "10.40.0.32"])]),
        instance("app-unmapped", "106", cpunumber=1, memory=1024, nic=[nic(0, vlan=777)]),
    ]


def plan(rules=None, cloud=None, existing=None, instances=None):
    rows, report = cp.build_plan(instances or vms(), RULES if rules is None else rules, cloud, existing)
    return dict((r["name"], r) for r in rows), rows, report


def test_rows_follow_the_rules():
    by, rows, report = plan()
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows)
    assert report["added"] == [r["name"] for r in rows]
    web = by["web01"]
    assert web["service_offering"] == "custom-constrained" and web["details"] == {"cpuSpeed": "1000"}
    assert web["project"] == "web" and web["account"] == ""
    assert web["nic_networks"] == {"Network adapter 1": "l2-vlan100"}
    assert web["data_disk_offerings"] == {"101-2001": "disk-100g"}
    assert web["zone"] == "zone1" and web["cluster"] == "DC0_C0" and web["action"] == "import"
    db = by["db01"]
    assert db["service_offering"] == "large-fixed" and db["details"] == {}
    assert (db["domain"], db["account"]) == ("ROOT/finance", "finance-ops")
    assert db["template"] == "centos7-template"
    assert db["nic_networks"] == {"Network adapter 1": "l2-vlan200", "Network adapter 2": "shared-vlan400"}
    assert db["nic_ip_addresses"] == {"Network adapter 2": "auto"}
    assert db["data_disk_offerings"] == {"102-2001": "disk-10g", "102-2002": "disk-custom"}
    assert by["Bad_Name"]["host_name"] == "bad-name"
    assert by["Bad_Name"]["nic_networks"] == {"Network adapter 1": "l2-untagged"}
    assert by["app-pvlan"]["nic_networks"] == {"Network adapter 1": "l2-pvlan300-i301"}
    assert by["app-multi-ip"]["nic_ip_addresses"] == {}
    assert "needs an IP on shared-vlan400 (VMware Tools reports 10.40.0.31, 10.40.0.32)" in by["app-multi-ip"]["notes"]
    assert by["app-unmapped"]["service_offering"] == "small-fixed"
    assert "Network adapter 1 (pg-777, vlan://777) has no network" in by["app-unmapped"]["notes"]
    assert db["vm_power_state"] == "PowerOff" and db["vm_cpu"] == 4 and db["vm_memory_mb"] == 8192
    assert "102-2002=Hard disk 3 500GiB pvscsi0:2 nfs-primary" in db["vm_disks"]
    assert "Network adapter 2=pg-400 vlan://400 Vmxnet3 00:50:56:01:00:02 10.40.0.21" in db["vm_nics"]


def test_default_network_for_nics_nothing_maps():
    rules = {"zone": "zone1", "networks": {"default": "l2-untagged"},
             "service_offerings": [{"service_offering": "custom-constrained"}]}
    by, _rows, _r = plan(rules)
    assert by["Bad_Name"]["nic_networks"] == {"Network adapter 1": "l2-untagged"}  # VLAN 0
    assert by["web01"]["nic_networks"] == {}  # VLAN 100: left to CloudStack's VLAN match
    by, _rows, _r = plan(rules, cloud={"zone": ZONE, "networks": NETWORKS})
    assert by["web01"]["nic_networks"] == {"Network adapter 1": "l2-vlan100"}
    assert by["app-unmapped"]["nic_networks"] == {"Network adapter 1": "l2-untagged"}  # VLAN 777: no network


def test_vms_cloudstack_manages_get_no_row():
    inst = vms() + [instance("s-1-VM", "9"), instance("vm-imported", "8", internalname="i-2-7-VM")]
    by, _rows, report = plan(cloud={"managed": {"s-1-VM", "i-2-7-VM"}}, instances=inst)
    assert report["excluded"] == ["s-1-VM", "vm-imported"]
    assert "s-1-VM" not in by and "vm-imported" not in by and "web01" in by


def test_owner_by_custom_attribute_and_default_owner():
    rules = dict(RULES, owners=[{"tag": "owner:finance", "domain": "ROOT/finance", "account": "finance-ops"}],
                 owner={"project": "web"})
    inst = [instance("a1", "1", customattributes={"owner": "finance"}), instance("a2", "2")]
    by, _rows, _r = plan(rules, instances=inst)
    assert (by["a1"]["account"], by["a1"]["domain"], by["a1"]["project"]) == ("finance-ops", "ROOT/finance", "")
    assert (by["a2"]["account"], by["a2"]["project"]) == ("", "web")


def test_rows_with_cloudstack_match_vlans_and_know_shared_networks():
    rules = {"zone": "zone1", "service_offerings": [{"service_offering": "custom-constrained"}]}
    by, _rows, _r = plan(rules, cloud={"zone": ZONE, "networks": NETWORKS})
    assert by["web01"]["nic_networks"] == {"Network adapter 1": "l2-vlan100"}  # not public-vlan100
    assert by["db01"]["nic_networks"]["Network adapter 2"] == "shared-vlan400"
    assert by["db01"]["nic_ip_addresses"] == {"Network adapter 2": "auto"}
    assert by["app-pvlan"]["nic_networks"] == {"Network adapter 1": "l2-pvlan300-i301"}


@pytest.mark.parametrize("rules,err", [
    ({"zones": "x"}, "rules has unknown key(s) zones"),
    ({"service_offerings": [{"cpu": 2}]}, "needs service_offering"),
    ({"service_offerings": [{"service_offering": "a", "cpus": 2}]}, "unknown key(s) cpus"),
    ({"networks": {"by_name": {}}}, "by_portgroup and by_vlan"),
    ({"action": "maybe"}, "rules.action"),
    ({"host_name": "fix"}, "rules.host_name"),
])
def test_bad_rules_are_named(rules, err):
    with pytest.raises(cp.PlanError) as e:
        cp.validate_rules(rules)
    assert err in str(e.value)


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_round_trip_keeps_every_value(fmt):
    _by, rows, _r = plan()
    text = cp.render_csv(rows) if fmt == "csv" else cp.render_yaml(rows)
    raw = cp.load_rows(text, fmt)
    parsed, problems = cp.validate_plan(raw)
    assert problems == []
    for row, entry in zip(rows, parsed):
        opts = entry["options"]
        assert opts["name"] == row["name"]
        for c in ("nic_networks", "nic_ip_addresses", "data_disk_offerings", "details"):
            assert opts.get(c, {}) == row[c], c
        for c in ("zone", "cluster", "service_offering", "template", "domain", "account", "project", "host_name"):
            assert opts.get(c, "") == row[c], c
        assert opts["migrate_allowed"] is False and opts["forced"] is False
    # writing what was read gives the same text (stable files, changed only on a real change)
    again = cp.render_csv(cp.build_plan(vms(), RULES, existing=raw)[0]) if fmt == "csv" else \
        cp.render_yaml(cp.build_plan(vms(), RULES, existing=raw)[0])
    assert again == text


def test_csv_is_one_row_per_vm_with_compact_columns():
    _by, rows, _r = plan()
    lines = cp.render_csv(rows).splitlines()
    assert lines[0].split(",")[:4] == ["name", "action", "zone", "cluster"]
    assert len(lines) == 1 + len(rows)
    db = next(line for line in lines if line.startswith("db01,"))
    assert "Network adapter 1=l2-vlan200;Network adapter 2=shared-vlan400" in db
    assert "102-2001=disk-10g;102-2002=disk-custom" in db


def test_yaml_has_mappings_and_a_header():
    _by, rows, _r = plan()
    text = cp.render_yaml(rows)
    assert text.startswith("# vmimport.migrate CloudStack import plan")
    assert "  nic_networks:\n    Network adapter 1: l2-vlan200\n" in text


def test_merge_keeps_operator_edits_adds_new_vms_and_keeps_stale_rows():
    _by, rows, _r = plan(instances=vms()[:3])
    raw = cp.load_rows(cp.render_csv(rows), "csv")
    edited = [dict(r) for r in raw]
    edited[0]["service_offering"] = "large-fixed"
    edited[0]["notes"] = "checked by ops"
    edited.append(dict(edited[1], name="gone-vm"))
    by, merged, report = plan(existing=edited)
    assert by[edited[0]["name"]]["service_offering"] == "large-fixed"
    assert by[edited[0]["name"]]["notes"] == "checked by ops"
    assert report["kept"] == [r["name"] for r in raw]
    assert report["stale"] == ["gone-vm"] and "gone-vm" in by
    assert report["added"] == ["app-multi-ip", "app-pvlan", "app-unmapped"]
    assert [r["name"] for r in merged][:4] == [r["name"] for r in edited]


def test_every_problem_of_every_row_at_once():
    text = "\n".join([
        "name,action,zone,service_offering,host_name,nic_networks,nic_ip_addresses,data_disk_offerings,forced,colour",
        "web01,import,zone1,custom-constrained,9web,,,,maybe,red",
        "db01,import,zone1,large-fixed,,Network adapter 1=l2-vlan200,Network adapter 2=auto,102-2001=x,,",
        "Bad_Name,import,,,,novalue,,,,",
        "app-multi-ip,import,zone1,custom-constrained,,,Network adapter 1=auto,,,",
        "web01,skip,zone1,x,,,,,,",
        ",import,zone1,x,,,,,,",
        "not-there,import,zone1,x,,,,,,",
        "app-pvlan,hold,zone1,x,,,,,,",
    ]) + "\n"
    rows, problems = cp.validate_plan(cp.load_rows(text, "csv"), instances=vms())
    texts = [p["text"] for p in problems]
    joined = "\n".join(texts)
    expect = [
        "row 1 (web01): unknown column 'colour'",
        "row 1 (web01): forced 'maybe' is not true or false",
        "row 1 (web01): Invalid VM hostname.",
        "row 2 (db01): VM has total 3 disks for which 1 disk offering mappings provided. 2 disks need a disk offering",
        "row 3 (Bad_Name): nic_networks entry 'novalue' is not KEY=VALUE",
        "row 3 (Bad_Name): service_offering is empty",
        "row 3 (Bad_Name): zone is empty",
        "row 3 (Bad_Name): Please provide a valid hostname for the VM.",
        "row 3 (Bad_Name): Suitable network for nic(ID: Network adapter 1) not found during VM import",
        "row 4 (app-multi-ip): Multiple IP addresses (10.40.0.31, 10.40.0.32) present for nic ID: Network adapter 1",
        "row 5 (web01): VM is planned twice (also row 1)",
        "row 6 (?): name is empty",
        "row 7 (not-there): VM not found among the unmanaged VMs",
        "row 8 (app-pvlan): action 'hold' is not import or skip",
    ]
    for e in expect:
        assert e in joined, e
    status = dict((r["name"], r["status"]) for r in rows)
    assert status == {"web01": "invalid", "db01": "invalid", "Bad_Name": "invalid", "app-multi-ip": "invalid",
                      "not-there": "invalid", "app-pvlan": "invalid"}


def test_rows_that_clash_with_each_other():
    inst = vms()
    twin = instance("web02", "201", nic=[nic(0, vlan=400, mac="00:50:56:01:00:01", ips=["10.40.0.21"])])
    inst.append(twin)
    text = "\n".join([
        "name,zone,service_offering,host_name,nic_networks,nic_ip_addresses,data_disk_offerings",
        "db01,zone1,large-fixed,same,Network adapter 2=shared-vlan400,Network adapter 2=auto,"
        "102-2001=disk-10g;102-2002=disk-custom",
        "web02,zone1,custom-constrained,same,Network adapter 1=shared-vlan400,Network adapter 1=10.40.0.21,",
    ]) + "\n"
    rows, problems = cp.validate_plan(cp.load_rows(text, "csv"), instances=inst)
    joined = "\n".join(p["text"] for p in problems)
    assert "row 2 (web02): host name 'same' is also used by row 1 (db01) on network shared-vlan400" in joined
    assert "VM with Name [same] already exists in the network" in joined
    assert "row 2 (web02): IP address 10.40.0.21 on network shared-vlan400 is also planned for row 1 (db01)" in joined
    assert "MAC address" not in joined  # different MACs on that network


def test_rows_with_the_same_mac_on_a_network_need_forced():
    inst = [instance("a1", "1", nic=[nic(0, vlan=100, mac="00:50:56:00:00:aa")]),
            instance("a2", "2", nic=[nic(0, vlan=100, mac="00:50:56:00:00:AA")])]
    text = "name,zone,service_offering,nic_networks,forced\n" \
           "a1,zone1,x,Network adapter 1=l2-vlan100,false\n" \
           "a2,zone1,x,Network adapter 1=l2-vlan100,%s\n"
    _rows, problems = cp.validate_plan(cp.load_rows(text % "false", "csv"), instances=inst)
    assert [p["text"] for p in problems] == [
        "row 2 (a2): Network adapter 1 has the MAC address of a NIC of row 1 (a1); after that import CloudStack "
        "answers: NIC with MAC address 00:50:56:00:00:AA exists on network Network {\"name\": \"l2-vlan100\"} and "
        "forced flag is disabled (set forced: true)"]
    assert cp.validate_plan(cp.load_rows(text % "true", "csv"), instances=inst)[1] == []


def test_validation_against_cloudstack():
    fake = FakeCs(unmanaged=[])
    catalog = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=fake))
    inst = vms()
    text = "\n".join([
        "name,zone,cluster,service_offering,nic_networks,data_disk_offerings,template",
        "web01,zone1,DC0_C0,custom-constrained,,101-2001=disk-100g,",
        "db01,zone1,DC0_C0,huge-fixed,,102-2001=disk-10g;102-2002=disk-1t,no-such-template",
        "legacy-app,zone1,DC0_C0,small-fixed,,,",
        "app-pvlan,zone1,DC0_C0,small-fixed,Network adapter 1=l2-pvlan300-c302,,",
    ]) + "\n"
    rows, problems = cp.validate_plan(cp.load_rows(text, "csv"), instances=inst, catalog=catalog,
                                      resolve_error=csu.ResolveError)
    joined = "\n".join(p["text"] for p in problems)
    assert "row 2 (db01): service offering 'huge-fixed' not found in CloudStack" in joined
    assert "row 2 (db01): disk offering 'disk-1t' not found in CloudStack" in joined
    assert "row 2 (db01): template 'no-such-template' not found in CloudStack in zone zone1" in joined
    assert "row 4 (app-pvlan): PVLAN of network(ID: n-302) pvlan://300-c302 is found different" in joined
    assert "row 4 (app-pvlan): Service offering (so-small) 2 CPU cores do not match VM CPU cores 2" not in joined
    assert "row 4 (app-pvlan): Service offering (so-small) 1 CPU cores do not match VM CPU cores 2" in joined
    status = dict((r["name"], r["status"]) for r in rows)
    assert status == {"web01": "ready", "db01": "invalid", "legacy-app": "managed", "app-pvlan": "invalid"}
    assert not any(p["row"] == 1 for p in problems)


def synthetic_vms(n):
    out = []
    for i in range(n):
        vlan = (100, 200, 400)[i % 3]
        ips = ["10.40.0.%d" % (20 + i)] if vlan == 400 else []
        out.append(instance("vm%03d" % i, str(1000 + i), cpunumber=1 + i % 4, memory=1024 * (1 + i % 4),
                            powerstate="PowerOff" if i % 2 else "PowerOn", cpuspeed=0,
                            folder="/DC0/vm/finance" if i % 5 == 0 else "/DC0/vm/other",
                            disk=[disk(str(1000 + i), 0, 20)] + [disk(str(1000 + i), 1, 50)] * (i % 2),
                            nic=[nic(0, vlan=vlan, mac="00:50:56:10:%02x:%02x" % (i // 256, i % 256), ips=ips)]))
    return out


def test_plan_of_100_vms_written_read_and_validated_with_few_calls():
    instances = synthetic_vms(100)
    rules = dict(RULES, service_offerings=[{"service_offering": "custom-constrained"}])
    t0 = time.monotonic()
    rows, report = cp.build_plan(instances, rules)
    csv_text, yaml_text = cp.render_csv(rows), cp.render_yaml(rows)
    fake = FakeCs(unmanaged=[])
    catalog = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=fake))
    for text, fmt in ((csv_text, "csv"), (yaml_text, "yaml")):
        parsed, problems = cp.validate_plan(cp.load_rows(text, fmt), instances=instances, catalog=catalog,
                                            resolve_error=csu.ResolveError)
        assert problems == [], problems[:3]
        assert len(parsed) == 100 and all(r["status"] == "ready" for r in parsed)
    elapsed = time.monotonic() - t0
    assert len(report["added"]) == 100 and len(csv_text.splitlines()) == 101
    assert len(fake.calls) <= 15, [c for c, _kw in fake.calls]  # loaded once, not per row
    assert elapsed < 10, elapsed


def test_100_vm_plan_reports_problems_of_all_rows():
    instances = synthetic_vms(100)
    rows, _r = cp.build_plan(instances, dict(RULES, service_offerings=[{"service_offering": "small-fixed"}]))
    raw = cp.load_rows(cp.render_csv(rows), "csv")
    for r in raw:
        r["data_disk_offerings"] = ""
    catalog = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=FakeCs(unmanaged=[])))
    parsed, problems = cp.validate_plan(raw, instances=instances, catalog=catalog, resolve_error=csu.ResolveError)
    disk_rows = set(p["row"] for p in problems if "disk offering mappings provided" in p["message"])
    cpu_rows = set(p["row"] for p in problems if "CPU cores do not match" in p["message"])
    assert disk_rows == set(i + 1 for i in range(100) if i % 2)
    assert cpu_rows == set(i + 1 for i in range(100) if i % 2 == 0 and i % 4 != 0)


@pytest.mark.parametrize("text,fmt,err", [
    ("just,some\n1,2\n", "csv", "its first line must be the header"),
    ("vms: 3\n", "yaml", "expected 'vms:' with a list of mappings"),
    ("vms: [\n", "yaml", "is not valid YAML"),
])
def test_not_a_plan(text, fmt, err):
    with pytest.raises(cp.PlanError, match=err):
        cp.load_rows(text, fmt, "plan.x")


def test_format_of():
    assert cp.format_of("/a/plan.CSV") == "csv" and cp.format_of("p.yml") == "yaml"
    assert cp.format_of("p.txt", "yaml") == "yaml"
    with pytest.raises(cp.PlanError, match="use .csv, .yml or .yaml"):
        cp.format_of("p.txt")
