# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""The import plan: one row per unmanaged VM saying where and how it is imported into
CloudStack, written as CSV and YAML for an operator to edit, read back and validated
(every problem of every row at once). Plain Python; CloudStack is optional (a Catalog).

Row format (CSV columns, YAML keys; the same names as cloudstack_unmanaged_import's options):

==================== =======================================================================
name                 vSphere VM name (the key of the row)
action               ``import`` or ``skip``
zone, cluster        CloudStack zone and cluster (names or ids)
display_name         CloudStack display name (empty: the VM name)
host_name            CloudStack host name (empty: the VM name, which must then be valid)
service_offering     compute offering
details              ``key=value;key=value`` (e.g. ``cpuSpeed=2000`` for a custom offering)
template             template (empty: CloudStack's dummy template; the guest OS must be known)
domain, account,     owner: account in domain (path like ``ROOT/finance``), or a project
project
nic_networks         ``NIC id=network;...`` e.g. ``Network adapter 1=net-a;Network adapter 2=net-b``
                     (a NIC left out is matched by VLAN by CloudStack)
nic_ip_addresses     ``NIC id=IPv4 or auto;...`` (needed on shared and isolated networks)
data_disk_offerings  ``disk id=disk offering;...`` for every disk but the root disk
migrate_allowed      ``true``/``false``
forced               ``true``/``false`` (import even when a NIC's MAC exists in the network)
vm_*                 what the VM is (power state, CPUs, memory, OS, NICs, disks): for reading,
                     refreshed on every write, ignored when the plan is read
notes                free text, kept
==================== =======================================================================

In YAML the ``key=value`` columns may also be mappings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import fnmatch
import io
import os

try:
    import yaml
    HAS_YAML = True
except ImportError:  # PyYAML comes with ansible-core; plain-Python users may lack it
    HAS_YAML = False

from ansible_collections.vmimport.migrate.plugins.module_utils.cloudstack_import import (
    GIB, MSG_HOSTNAME_IN_NETWORK, MSG_MAC_EXISTS, PairsError, broadcast_uri, check_import, format_pairs,
    is_guest_network, match_network_by_vlan, network_str, parse_pairs, resolve_request, sanitize_hostname,
    verify_hostname,
)

PLAN_VERSION = 1
EDITABLE = ("name", "action", "zone", "cluster", "display_name", "host_name", "service_offering", "details",
            "template", "domain", "account", "project", "nic_networks", "nic_ip_addresses", "data_disk_offerings",
            "migrate_allowed", "forced")
INFO = ("vm_power_state", "vm_cpu", "vm_memory_mb", "vm_os", "vm_nics", "vm_disks")
COLUMNS = EDITABLE + INFO + ("notes",)
PAIR_COLUMNS = ("details", "nic_networks", "nic_ip_addresses", "data_disk_offerings")
BOOL_COLUMNS = ("migrate_allowed", "forced")
ACTIONS = ("import", "skip")

RULE_KEYS = ("zone", "cluster", "action", "host_name", "networks", "auto_ip_networks", "service_offerings",
             "data_disk_offerings", "owner", "owners", "templates", "details", "migrate_allowed", "forced")
OFFERING_RULE_KEYS = ("service_offering", "cpu", "cpu_min", "cpu_max", "memory_mb", "memory_min_mb", "memory_max_mb",
                      "power_state", "cpu_speed", "details")
DISK_RULE_KEYS = ("disk_offering", "min_gb", "max_gb")
OWNER_KEYS = ("folder", "tag", "account", "domain", "project")
TEMPLATE_KEYS = ("guest_os", "template")


class PlanError(Exception):
    """The rules or a plan file cannot be used at all."""


# ----------------------------------------------------------------------------------------------
# rules
# ----------------------------------------------------------------------------------------------
def _list_of_dicts(value, what, keys):
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise PlanError("rules.%s must be a list of mappings" % what)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise PlanError("rules.%s[%d] must be a mapping" % (what, i))
        unknown = sorted(set(item) - set(keys))
        if unknown:
            raise PlanError("rules.%s[%d] has unknown key(s) %s; known: %s"
                            % (what, i, ", ".join(unknown), ", ".join(keys)))
    return value


def validate_rules(rules):
    """Normalised rules; PlanError naming the bad key."""
    rules = dict(rules or {})
    unknown = sorted(set(rules) - set(RULE_KEYS))
    if unknown:
        raise PlanError("rules has unknown key(s) %s; known: %s" % (", ".join(unknown), ", ".join(RULE_KEYS)))
    nets = rules.get("networks") or {}
    if not isinstance(nets, dict) or set(nets) - set(("by_portgroup", "by_vlan", "default")):
        raise PlanError("rules.networks takes by_portgroup and by_vlan mappings and a default network")
    rules["networks"] = {"by_portgroup": dict(nets.get("by_portgroup") or {}),
                         "by_vlan": dict((str(k), v) for k, v in (nets.get("by_vlan") or {}).items()),
                         "default": nets.get("default") or None}
    rules["service_offerings"] = _list_of_dicts(rules.get("service_offerings"), "service_offerings",
                                                OFFERING_RULE_KEYS)
    for i, r in enumerate(rules["service_offerings"]):
        if not r.get("service_offering"):
            raise PlanError("rules.service_offerings[%d] needs service_offering" % i)
    disks = rules.get("data_disk_offerings")
    if isinstance(disks, str):
        disks = [{"disk_offering": disks}]
    rules["data_disk_offerings"] = _list_of_dicts(disks, "data_disk_offerings", DISK_RULE_KEYS)
    owners = _list_of_dicts(rules.get("owners"), "owners", OWNER_KEYS)
    if rules.get("owner"):
        default = dict(rules["owner"])
        default.pop("folder", None)
        default.pop("tag", None)
        owners = owners + [default]
    rules["owners"] = owners
    rules["templates"] = _list_of_dicts(rules.get("templates"), "templates", TEMPLATE_KEYS)
    rules["auto_ip_networks"] = list(rules.get("auto_ip_networks") or [])
    action = rules.get("action") or "import"
    if action not in ACTIONS:
        raise PlanError("rules.action must be one of %s" % ", ".join(ACTIONS))
    rules["action"] = action
    host_name = rules.get("host_name") or "sanitize"
    if host_name not in ("sanitize", "keep"):
        raise PlanError("rules.host_name must be 'sanitize' (derive a valid host name from an invalid VM name) "
                        "or 'keep'")
    rules["host_name"] = host_name
    return rules


def _in_range(value, lo, hi):
    if lo is not None and value < int(lo):
        return False
    if hi is not None and value > int(hi):
        return False
    return True


def offering_rule(instance, rules):
    cpu = int(instance.get("cpunumber") or 0)
    mem = int(instance.get("memory") or 0)
    for r in rules["service_offerings"]:
        if r.get("cpu") is not None and cpu != int(r["cpu"]):
            continue
        if r.get("memory_mb") is not None and mem != int(r["memory_mb"]):
            continue
        if not _in_range(cpu, r.get("cpu_min"), r.get("cpu_max")):
            continue
        if not _in_range(mem, r.get("memory_min_mb"), r.get("memory_max_mb")):
            continue
        if r.get("power_state") and r["power_state"] != instance.get("powerstate"):
            continue
        return r
    return None


def disk_offering_rule(disk, rules):
    gb = int(disk.get("capacity") or 0) / float(GIB)
    for r in rules["data_disk_offerings"]:
        if _in_range(gb, r.get("min_gb"), r.get("max_gb")):
            return r
    return None


def vm_tags(instance):
    """The VM's tags (``tags``: "category:tag" strings) and custom attributes as "name:value"."""
    tags = [str(t) for t in instance.get("tags") or []]
    attrs = instance.get("customattributes") or {}
    if isinstance(attrs, dict):
        tags += ["%s:%s" % (k, v) for k, v in sorted(attrs.items())]
    return tags


def owner_rule(instance, rules):
    folder = instance.get("folder") or ""
    tags = vm_tags(instance)
    for r in rules["owners"]:
        if r.get("folder") and not fnmatch.fnmatchcase(folder, r["folder"]):
            continue
        if r.get("tag") and r["tag"] not in tags:
            continue
        return r
    return None


def template_rule(instance, rules):
    names = [(instance.get("osid") or "").lower(), (instance.get("osdisplayname") or "").lower()]
    for r in rules["templates"]:
        pattern = str(r.get("guest_os") or "*").lower()
        if any(n and fnmatch.fnmatchcase(n, pattern) for n in names):
            return r
    return None


def nic_network_rule(nic, rules):
    nets = rules["networks"]
    if nic.get("networkname") in nets["by_portgroup"]:
        return nets["by_portgroup"][nic["networkname"]]
    uri = broadcast_uri(nic)
    if uri is None:
        return None
    for key in (uri, uri.split("://", 1)[1], str(int(nic.get("vlanid") or 0))):
        if key in nets["by_vlan"]:
            return nets["by_vlan"][key]
    return None


# ----------------------------------------------------------------------------------------------
# building rows
# ----------------------------------------------------------------------------------------------
def _gib(n):
    value = int(n or 0) / float(GIB)
    return ("%d" % value) if value == int(value) else ("%.1f" % value)


def info_columns(instance):
    nics = []
    for n in instance.get("nic") or []:
        desc = [n.get("networkname") or "?", broadcast_uri(n) or "no vlan", n.get("adaptertype") or "?",
                n.get("macaddress") or "?"]
        if n.get("ipaddress"):
            desc.append(",".join(n["ipaddress"]))
        nics.append("%s=%s" % (n.get("id"), " ".join(desc)))
    disks = []
    for d in instance.get("disk") or []:
        disks.append("%s=%s %sGiB %s%s:%s %s" % (d.get("id"), d.get("label"), _gib(d.get("capacity")),
                                                 d.get("controller"), d.get("controllerunit"), d.get("position"),
                                                 d.get("datastorename")))
    return {"vm_power_state": instance.get("powerstate") or "", "vm_cpu": int(instance.get("cpunumber") or 0),
            "vm_memory_mb": int(instance.get("memory") or 0),
            "vm_os": "%s (%s)" % (instance.get("osdisplayname") or "", instance.get("osid") or ""),
            "vm_nics": ";".join(nics), "vm_disks": ";".join(disks)}


def build_row(instance, rules, cloud=None):
    """One plan row for an unmanaged VM from the rules; cloud (optional) gives the zone's networks.

    cloud: {"networks": [...], "zone": {...}} used to match unmapped NICs by VLAN the way
    CloudStack does and to know which networks need an IP.
    """
    notes = []
    name = instance.get("name")
    row = dict((c, "") for c in COLUMNS)
    row.update({"name": name, "action": rules["action"], "zone": rules.get("zone") or "",
                "cluster": rules.get("cluster") or instance.get("cluster") or ""})
    if not verify_hostname(name) and rules["host_name"] == "sanitize":
        row["host_name"] = sanitize_hostname(name)
    details = dict((k, str(v)) for k, v in (rules.get("details") or {}).items())
    off = offering_rule(instance, rules)
    if off is not None:
        row["service_offering"] = off["service_offering"]
        details.update(dict((k, str(v)) for k, v in (off.get("details") or {}).items()))
        if off.get("cpu_speed") and not int(instance.get("cpuspeed") or 0):
            details.setdefault("cpuSpeed", str(off["cpu_speed"]))
    else:
        notes.append("no service offering rule matches %s CPU / %s MB"
                     % (instance.get("cpunumber"), instance.get("memory")))
    row["details"] = details
    tpl = template_rule(instance, rules)
    if tpl is not None:
        row["template"] = tpl.get("template") or ""
    owner = owner_rule(instance, rules)
    if owner is not None:
        for k in ("domain", "account", "project"):
            row[k] = owner.get(k) or ""
    networks = (cloud or {}).get("networks")
    zone = (cloud or {}).get("zone") or {}
    by_name = dict((n.get("name"), n) for n in networks or [])
    nic_networks, nic_ips = {}, {}
    for nic in instance.get("nic") or []:
        nid = nic.get("id")
        target = nic_network_rule(nic, rules)
        net = by_name.get(target) if target else None
        if target is None and networks is not None:
            net = match_network_by_vlan(nic, [n for n in networks if is_guest_network(n)], zone)
            target = net.get("name") if net else None
        if target is None and rules["networks"]["default"] and (networks is not None or not broadcast_uri(nic)):
            # without CloudStack a NIC with a VLAN is left to CloudStack's own VLAN match
            target = rules["networks"]["default"]
            net = by_name.get(target)
        if target is None:
            notes.append("%s (%s, %s) has no network" % (nid, nic.get("networkname"),
                                                         broadcast_uri(nic) or "no VLAN"))
            continue
        nic_networks[nid] = target
        needs_ip = target in rules["auto_ip_networks"] or (
            net is not None and net.get("type") in ("Shared", "Isolated"))
        if needs_ip:
            reported = nic.get("ipaddress") or []
            if len(reported) == 1:
                nic_ips[nid] = "auto"
            else:
                notes.append("%s needs an IP on %s (VMware Tools reports %s)" % (
                    nid, target, ", ".join(reported) if reported else "none"))
    row["nic_networks"] = nic_networks
    row["nic_ip_addresses"] = nic_ips
    disks = instance.get("disk") or []
    data_disks = {}
    for d in disks[1:]:
        r = disk_offering_rule(d, rules)
        if r is None:
            notes.append("no disk offering rule for %s (%s GiB)" % (d.get("id"), _gib(d.get("capacity"))))
        else:
            data_disks[d.get("id")] = r["disk_offering"]
    row["data_disk_offerings"] = data_disks
    row["migrate_allowed"] = bool(rules.get("migrate_allowed"))
    row["forced"] = bool(rules.get("forced"))
    row.update(info_columns(instance))
    row["notes"] = "; ".join(notes)
    return row


def build_plan(instances, rules, cloud=None, existing=None):
    """Rows for instances (sorted by name). existing: rows of a plan already written (merge).

    cloud: {"zone", "networks", "managed": set of names CloudStack manages} (all optional); VMs
    whose name or internal name (``internalname``, CloudStack's cloud.vm.internal.name) is
    managed get no row and are reported as ``excluded``.
    """
    rules = validate_rules(rules)
    managed = (cloud or {}).get("managed") or set()
    report = {"added": [], "kept": [], "stale": [], "excluded": []}
    keep = []
    for i in instances:
        if i.get("name") in managed or (i.get("internalname") and i.get("internalname") in managed):
            report["excluded"].append(i.get("name"))
        else:
            keep.append(i)
    by_name = dict((i.get("name"), i) for i in keep)
    rows = []
    seen = set()
    for old in existing or []:
        name = old.get("name")
        if not name or name in seen:
            continue
        seen.add(name)
        row = dict((c, old.get(c, "")) for c in COLUMNS)
        if name in by_name:
            row.update(info_columns(by_name[name]))
            report["kept"].append(name)
        else:
            report["stale"].append(name)
        rows.append(row)
    for name in sorted(n for n in by_name if n not in seen):
        rows.append(build_row(by_name[name], rules, cloud))
        report["added"].append(name)
    return rows, report


# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------
def _bool_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _cell(column, value):
    if column in PAIR_COLUMNS:
        if isinstance(value, dict):
            return format_pairs(value)
        return "" if value is None else str(value)
    if column in BOOL_COLUMNS:
        return _bool_text(value)
    return "" if value is None else str(value)


def render_csv(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for row in rows:
        w.writerow([_cell(c, row.get(c)) for c in COLUMNS])
    return buf.getvalue()


YAML_HEADER = """\
# vmimport.migrate CloudStack import plan (cloudstack_import_plan). One entry per vSphere VM.
# Edit this file or the CSV twin (not both): the next 'state: write' keeps your edits (merge) and
# rewrites the other file from the one changed last. 'state: read' validates every row.
# action: import | skip. nic_networks / nic_ip_addresses / data_disk_offerings / details are
# mappings (or "key=value;key=value" strings); vm_* describe the VM and are ignored on read.
"""


def _yaml_value(column, value):
    if column in PAIR_COLUMNS:
        if isinstance(value, dict):
            return dict(value)
        try:
            return parse_pairs(value)
        except PairsError:
            return value
    if column in BOOL_COLUMNS:
        if isinstance(value, bool):
            return value
        parsed = parse_bool(value)
        return value if parsed is None else parsed
    if column in ("vm_cpu", "vm_memory_mb"):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    return "" if value is None else value


def render_yaml(rows):
    if not HAS_YAML:
        raise PlanError("writing a YAML plan needs PyYAML")
    doc = {"version": PLAN_VERSION, "vms": [dict((c, _yaml_value(c, row.get(c))) for c in COLUMNS) for row in rows]}
    return YAML_HEADER + yaml.safe_dump(doc, default_flow_style=False, sort_keys=False, allow_unicode=True, width=120)


def parse_bool(value):
    if isinstance(value, bool):
        return value
    text = ("" if value is None else str(value)).strip().lower()
    if text in ("true", "yes", "1", "on", "y"):
        return True
    if text in ("false", "no", "0", "off", "n", ""):
        return False
    return None


def format_of(path, fmt=None):
    if fmt and fmt != "auto":
        return fmt
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        return "csv"
    if ext in (".yml", ".yaml"):
        return "yaml"
    raise PlanError("cannot tell the format of %s from its extension: use .csv, .yml or .yaml, or set format" % path)


def load_rows(text, fmt, source="plan"):
    """Raw rows (column -> value) of a plan file; PlanError when the file is not a plan at all."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "name" not in [f.strip() for f in reader.fieldnames]:
            raise PlanError("%s is not an import plan: its first line must be the header (with a 'name' column)"
                            % source)
        rows = []
        for raw in reader:
            rows.append(dict(((k or "").strip(), v) for k, v in raw.items()))
        return rows
    if not HAS_YAML:
        raise PlanError("reading a YAML plan needs PyYAML")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PlanError("%s is not valid YAML: %s" % (source, e))
    if isinstance(doc, dict):
        doc = doc.get("vms")
    if doc is None:
        return []
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise PlanError("%s is not an import plan: expected 'vms:' with a list of mappings" % source)
    return [dict((str(k), v) for k, v in r.items()) for r in doc]


# ----------------------------------------------------------------------------------------------
# reading and validating
# ----------------------------------------------------------------------------------------------
def _problem(problems, row_no, vm, message, column=None):
    text = "row %d (%s): %s" % (row_no, vm or "?", message)
    problems.append({"row": row_no, "vm": vm, "column": column, "message": message, "text": text})


def parse_row(raw, row_no, problems):
    """A row of the file -> the cloudstack_unmanaged_import options (None when unusable)."""
    vm = ("" if raw.get("name") is None else str(raw.get("name"))).strip()
    unknown = sorted(k for k in raw if k and k not in COLUMNS)
    for k in unknown:
        _problem(problems, row_no, vm, "unknown column '%s' (columns: %s)" % (k, ", ".join(EDITABLE)), k)
    if not vm:
        _problem(problems, row_no, vm, "name is empty", "name")
        return None
    opts = {"name": vm}
    action = str(raw.get("action") or "import").strip().lower()
    if action not in ACTIONS:
        _problem(problems, row_no, vm, "action '%s' is not import or skip" % action, "action")
    opts["action"] = action
    for c in ("zone", "cluster", "display_name", "host_name", "service_offering", "template", "domain", "account",
              "project"):
        value = raw.get(c)
        value = "" if value is None else str(value).strip()
        opts[c] = value or None
    for c in PAIR_COLUMNS:
        try:
            opts[c] = parse_pairs(raw.get(c), c)
        except PairsError as e:
            _problem(problems, row_no, vm, str(e), c)
            opts[c] = {}
    for c in BOOL_COLUMNS:
        value = parse_bool(raw.get(c))
        if value is None:
            _problem(problems, row_no, vm, "%s '%s' is not true or false" % (c, raw.get(c)), c)
            value = False
        opts[c] = value
    if action == "import":
        if not opts["service_offering"]:
            _problem(problems, row_no, vm, "service_offering is empty", "service_offering")
        if not opts["zone"]:
            _problem(problems, row_no, vm, "zone is empty", "zone")
    opts["notes"] = raw.get("notes") or ""
    return opts


def module_options(opts):
    """The row's cloudstack_unmanaged_import options (empty ones left out)."""
    out = {}
    for c in EDITABLE:
        if c == "action":
            continue
        v = opts.get(c)
        if v in (None, "", {}) and c not in BOOL_COLUMNS:
            continue
        out[c] = v
    return out


def _placeholder_request(opts):
    """The request as check_import takes it, without CloudStack (names only)."""
    return {"name": opts["name"], "host_name": opts.get("host_name"), "display_name": opts.get("display_name"),
            "account": opts.get("account"), "domain": {"name": opts["domain"]} if opts.get("domain") else None,
            "project": None, "service_offering": None,
            "template": {"name": opts["template"]} if opts.get("template") else None,
            "nic_networks": dict((k, {"name": v}) for k, v in opts["nic_networks"].items() if v),
            "nic_ip_addresses": dict(opts["nic_ip_addresses"]),
            "data_disk_offerings": dict((k, {"name": v}) for k, v in opts["data_disk_offerings"].items() if v),
            "details": dict(opts["details"]), "forced": opts["forced"]}


def validate_plan(raw_rows, instances=None, catalog=None, resolve_error=Exception):
    """Every problem of every row. Returns (rows, problems).

    rows: [{"row": n, "options": cloudstack_unmanaged_import options, "action": ..., "notes": ...}].
    instances: the unmanaged VMs (facts) the rows are checked against (None: rows only).
    catalog: a cloudstack.Catalog to resolve names and check against CloudStack (None: offline).
    """
    problems = []
    rows = []
    by_vm = dict((i.get("name"), i) for i in instances or [])
    first_row = {}
    claims = {"host": {}, "ip": {}, "mac": {}}
    for index, raw in enumerate(raw_rows):
        row_no = index + 1
        opts = parse_row(raw, row_no, problems)
        if opts is None:
            continue
        vm = opts["name"]
        if vm in first_row:
            _problem(problems, row_no, vm, "VM is planned twice (also row %d)" % first_row[vm], "name")
            continue
        first_row[vm] = row_no
        entry = {"row": row_no, "name": vm, "action": opts["action"], "options": module_options(opts),
                 "notes": opts["notes"], "status": "skip" if opts["action"] != "import" else "ready"}
        rows.append(entry)
        if opts["action"] != "import":
            continue
        before = len(problems)
        managed = _managed(catalog, opts, resolve_error)
        if managed is not None:  # imported already (a re-run): nothing to check or do
            entry["status"] = "managed"
            entry["virtual_machine_id"] = managed.get("id")
            continue
        instance = by_vm.get(vm) if instances is not None else None
        if instances is not None and instance is None:
            _problem(problems, row_no, vm, "VM not found among the unmanaged VMs (not in vSphere, a template, or "
                                           "already managed by CloudStack%s)"
                     % ("" if catalog is not None else ": give CloudStack credentials to recognise imported VMs"),
                     "name")
            entry["status"] = "invalid"
            continue
        if instance is None:
            continue
        ctx, request, nic_map = {}, None, {}
        if catalog is not None:
            request, ctx = _cloud_request(catalog, opts, instance, row_no, problems, resolve_error)
            if request is None:
                continue
        else:
            request = _placeholder_request(opts)
        found, nic_map = check_import(instance, request, ctx)
        for p in found:
            _problem(problems, row_no, vm, str(p)[len(vm) + 2:] if str(p).startswith(vm + ": ") else str(p))
        _cross_row_claims(claims, problems, row_no, vm, instance, request, nic_map, opts)
        if len(problems) > before:
            entry["status"] = "invalid"
    for entry in rows:  # problems found while parsing the row
        if entry["status"] in ("ready", "skip") and any(pr["row"] == entry["row"] for pr in problems):
            entry["status"] = "invalid"
    return rows, problems


def _managed(catalog, opts, resolve_error):
    """The CloudStack VM already imported from this row's VM, when CloudStack can tell."""
    if catalog is None or not opts.get("zone"):
        return None
    try:
        zone = catalog.zone(opts["zone"])
    except resolve_error:
        return None
    return catalog.managed_vm(opts["name"], zone)


def _cloud_request(catalog, opts, instance, row_no, problems, resolve_error):
    vm = opts["name"]
    try:
        zone = catalog.zone(opts["zone"])
        cluster = catalog.cluster(opts.get("cluster") or instance.get("cluster"), zone)
    except resolve_error as e:
        _problem(problems, row_no, vm, str(e), "cluster")
        return None, None
    request, errors = resolve_request(catalog, zone, opts, resolve_error)
    for e in errors:
        _problem(problems, row_no, vm, e)
    ctx = {"zone": zone, "cluster": cluster, "networks": catalog.networks(zone["id"]),
           "vms": catalog.virtual_machines(zone["id"]), "os_types": catalog.os_types(),
           "os_mappings": catalog.os_mappings(), "storage_pools": catalog.storage_pools(zone["id"]),
           "hypervisor_version": catalog.host_version(cluster, host_id=instance.get("hostid"),
                                                      host_name=instance.get("host"))}
    return request, ctx


def _cross_row_claims(claims, problems, row_no, vm, instance, request, nic_map, opts):
    """Two rows of the plan that CloudStack would refuse together (the second import fails)."""
    host = request.get("host_name") or vm
    for nic in instance.get("nic") or []:
        net = nic_map.get(nic.get("id"))
        if net is None:
            continue
        key = net.get("id") or net.get("name")
        label = net.get("name") or key
        prev = claims["host"].get((key, host))
        if prev is not None:
            _problem(problems, row_no, vm, "host name '%s' is also used by row %d (%s) on network %s; CloudStack "
                                           "refuses the second import: %s" % (
                                               host, prev[0], prev[1], label,
                                               MSG_HOSTNAME_IN_NETWORK % (host, network_str(net),
                                                                          net.get("networkdomain"))), "host_name")
        else:
            claims["host"][(key, host)] = (row_no, vm)
        ip = (request.get("nic_ip_addresses") or {}).get(nic.get("id"))
        if ip == "auto" and len(nic.get("ipaddress") or []) == 1:
            ip = nic["ipaddress"][0]
        if ip and ip != "auto":
            prev = claims["ip"].get((key, ip))
            if prev is not None:
                _problem(problems, row_no, vm, "IP address %s on network %s is also planned for row %d (%s)"
                         % (ip, label, prev[0], prev[1]), "nic_ip_addresses")
            else:
                claims["ip"][(key, ip)] = (row_no, vm)
        mac = (nic.get("macaddress") or "").lower()
        if mac:
            prev = claims["mac"].get((key, mac))
            if prev is not None and not opts.get("forced"):
                _problem(problems, row_no, vm, "%s has the MAC address of a NIC of row %d (%s); after that import "
                                               "CloudStack answers: %s (set forced: true)" % (
                                                   nic.get("id"), prev[0], prev[1],
                                                   MSG_MAC_EXISTS % (nic.get("macaddress"), network_str(net))),
                         "forced")
            elif prev is None:
                claims["mac"][(key, mac)] = (row_no, vm)
