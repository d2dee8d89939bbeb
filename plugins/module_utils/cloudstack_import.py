# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""CloudStack's importUnmanagedInstance rules, NIC-to-network mapping and the exact API
parameters, as plain Python (no Ansible, no network: CloudStack objects are passed in).

The messages are CloudStack's own (UnmanagedVMsManagerImpl, ImportUnmanagedInstanceCmd,
NetUtils, UserVmManagerImpl, NetworkOrchestrator) so that an operator sees before the call
what CloudStack would answer after it; each problem is prefixed with the VM's name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import ipaddress
    HAS_IPADDRESS = True
except ImportError:  # pragma: no cover - Python >= 3.3 has it
    HAS_IPADDRESS = False

GIB = 1024 ** 3
INT_MAX = 2147483647

# ----------------------------------------------------------------------------------------------
# CloudStack's wording
# ----------------------------------------------------------------------------------------------
MSG_HOSTNAME_FROM_NAME = ("Please provide a valid hostname for the VM. VM name contains unsupported characters that "
                          "cannot be used as hostname.")
MSG_HOSTNAME = ("Invalid VM hostname. VM hostname can contain ASCII letters 'a' through 'z', the digits '0' through "
                "'9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with "
                "\"-\" and can't start with digit")
MSG_DOMAIN_NEEDS_ACCOUNT = "domainid parameter must be specified with account parameter"
MSG_NOT_FOUND = "Failed to find unmanaged vm with name: %s in cluster: %s"
MSG_CPU_INVALID = "CPU cores [%s] is not valid for importing VM [%s]."
MSG_MEMORY_INVALID = "Memory [%s] is not valid for importing VM [%s]."
MSG_CPU_MISMATCH = ("Service offering (%s) %d CPU cores do not match VM CPU cores %d and VM is not in powered off "
                    "state (Power state: %s)")
MSG_MEMORY_MISMATCH = ("Service offering (%s) %dMB memory does not match VM memory %dMB and VM is not in powered off "
                       "state (Power state: %s)")
MSG_SPEED_MISMATCH = ("Service offering (%s) %dMHz CPU speed does not match VM CPU speed %dMHz and VM is not in "
                      "powered off state (Power state: %s)")
MSG_CUSTOM_CPU = "Invalid cpu cores value, specify a value between %d and %d"
MSG_CUSTOM_SPEED = "Invalid cpu speed value, specify a value between 1 and %d"
MSG_CUSTOM_MEMORY = "Invalid memory value, specify a value between %d and %d"
MSG_NO_DISKS = "No attached disks found for the unmanaged VM: %s"
MSG_DISK_COUNT = ("VM has total %d disks for which %d disk offering mappings provided. %d disks need a disk offering "
                  "for import")
MSG_DISK_UNMAPPED = ("VM has total %d disks, disk offering mapping not provided for %d disks. Disk IDs that may need "
                     "a disk offering - %s")
MSG_ROOT_DISK = "VM import failed. Unable to retrieve root disk details for VM: %s "
MSG_DISK_CONTROLLERS = ("Multiple data disk controllers of different type (%s, %s) are not supported for import. "
                        "Please make sure that all data disk controllers are of the same type")
MSG_DISK_SIZE = "Size of disk(ID: %s) is found invalid during VM import"
MSG_DISK_OFFERING_ZERO = "Size of fixed disk offering(ID: %s) is found invalid during VM import"
MSG_DISK_OFFERING_SMALL = ("Size of disk offering(ID: %s) %dGB is found less than the size of disk(ID: %s) %dGB during "
                           "VM import")
MSG_STORAGE_POOL = "Storage pool for disk %s(%s) with datastore: %s not found in zone ID: %s"
MSG_NIC_ADAPTERS = ("Multiple network adapter of different type (%s, %s) are not supported for import. Please make "
                    "sure that all network adapters are of the same type")
MSG_AUTO_MULTIPLE_IPS = ("Multiple IP addresses (%s, %s) present for nic ID: %s. IP address cannot be assigned "
                         "automatically, only single IP address auto-assigning supported")
MSG_IP_INVALID = "IP address '%s' for NIC ID: %s is invalid"
MSG_NETWORK_ZONE = "Network(ID: %s) for nic(ID: %s) belongs to a different zone than VM to be imported"
MSG_VLAN_MISMATCH = ("VLAN of network(ID: %s) %s is found different from the VLAN of nic(ID: %s) vlan://%d during VM "
                     "import")
MSG_PVLAN_MISMATCH = ("PVLAN of network(ID: %s) %s is found different from the VLAN of nic(ID: %s) pvlan://%d-%s%d "
                      "during VM import")
MSG_HOSTNAME_IN_NETWORK = ("VM with Name [%s] already exists in the network [%s] domain [%s]. Cannot import another VM "
                           "with the same name. Please try again with a different name.")
MSG_NIC_NEEDS_IP = ("NIC(ID: %s) needs a valid IP address for it to be associated with network(ID: %s). "
                    "nicipaddresslist parameter of API can be used for this")
MSG_IP_NOT_AVAILABLE = "IP address %s for NIC(ID: %s) is not available in network(ID: %s)"
MSG_NO_NETWORK = "Suitable network for nic(ID: %s) not found during VM import"
MSG_MAC_EXISTS = "NIC with MAC address %s exists on network %s and forced flag is disabled"
MSG_OS_NO_MAPPING = ("Unable to find hypervisor guest OS ID: %s details for unmanaged VM: %s for hypervisor: %s "
                     "version: %s. templateid parameter can be used to assign template for VM")
MSG_OS_UNKNOWN = ("Unable to retrieve guest OS details for unmanaged VM: %s with OS name: %s, OS ID: %s for "
                  "hypervisor: %s version: %s. templateid parameter can be used to assign template for VM")

SYSTEM_TRAFFIC = ("Public", "Management", "Control", "Storage", "None")


class Problem(object):
    """One broken rule: CloudStack's message, the VM it is about, and what to change here."""

    def __init__(self, vm, message, fix=None, rule=None):
        self.vm = vm
        self.message = message
        self.fix = fix
        self.rule = rule

    def __str__(self):
        text = "%s: %s" % (self.vm, self.message)
        if self.fix:
            text += " (fix: %s)" % self.fix
        return text

    def as_dict(self):
        return {"vm": self.vm, "rule": self.rule, "message": self.message, "fix": self.fix, "text": str(self)}


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def verify_hostname(name):
    """NetUtils.verifyDomainNameLabel(name, true)."""
    if name is None or len(name) < 1 or len(name) > 63:
        return False
    if not re.match(r"^[a-z0-9-]*$", name.lower()):
        return False
    if name.startswith("-") or name.endswith("-"):
        return False
    if re.match(r"^[0-9-]", name):
        return False
    return True


def sanitize_hostname(name):
    """A valid hostname derived from a VM name (invalid characters become hyphens)."""
    text = re.sub(r"[^a-z0-9-]+", "-", (name or "").lower())
    text = re.sub(r"-{2,}", "-", text).strip("-")
    text = re.sub(r"^[0-9-]+", "", text)
    text = text[:63].rstrip("-")
    return text or "vm"


def is_ip4(text):
    if not HAS_IPADDRESS:  # pragma: no cover
        return bool(re.match(r"^\d{1,3}(\.\d{1,3}){3}$", text or ""))
    try:
        return isinstance(ipaddress.ip_address(u"%s" % text), ipaddress.IPv4Address)
    except ValueError:
        return False


def in_cidr(ip, cidr):
    try:
        return ipaddress.ip_address(u"%s" % ip) in ipaddress.ip_network(u"%s" % cidr, strict=False)
    except ValueError:
        return False


def power_state(instance):
    state = instance.get("powerstate")
    return state if state in ("PowerOn", "PowerOff", "PowerUnknown") else "PowerUnknown"


def broadcast_uri(nic):
    """The broadcast URI of the CloudStack network CloudStack would match this NIC to (None: no VLAN)."""
    vlan = int(nic.get("vlanid") or 0)
    if not vlan:
        return None
    pvlan = nic.get("pvlanid")
    if pvlan:
        return "pvlan://%d-%s%d" % (vlan, (nic.get("pvlantype") or "")[:1].lower(), int(pvlan))
    return "vlan://%d" % vlan


def network_str(net):
    """How CloudStack prints a network (NetworkVO.toString) in its messages."""
    if not net.get("id"):  # a name only (no CloudStack to ask)
        return 'Network {"name": "%s"}' % net.get("name")
    return 'Network {"id": "%s", "name": "%s", "uuid": "%s"}' % (net.get("id"), net.get("name"), net.get("id"))


def is_guest_network(net):
    return (net.get("traffictype") or "Guest") not in SYSTEM_TRAFFIC and not net.get("issystem")


# ----------------------------------------------------------------------------------------------
# compact "key=value;key=value" columns of the plan
# ----------------------------------------------------------------------------------------------
class PairsError(ValueError):
    pass


def parse_pairs(value, what="value"):
    """'Network adapter 1=net-a;Network adapter 2=net-b' -> ordered dict-like list of pairs -> dict.

    A mapping is accepted as is (YAML plans). Empty -> {}.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict((str(k).strip(), "" if v is None else str(v).strip()) for k, v in value.items())
    text = str(value).strip()
    if not text:
        return {}
    out = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise PairsError("%s entry '%s' is not KEY=VALUE (entries are separated by ';')" % (what, part))
        k, v = part.split("=", 1)
        k, v = k.strip(), v.strip()
        if not k:
            raise PairsError("%s entry '%s' has an empty key" % (what, part))
        if k in out:
            raise PairsError("%s names '%s' twice" % (what, k))
        out[k] = v
    return out


def format_pairs(mapping):
    return ";".join("%s=%s" % (k, v) for k, v in (mapping or {}).items())


# ----------------------------------------------------------------------------------------------
# the rules
# ----------------------------------------------------------------------------------------------
def check_service_offering(instance, offering, details):
    """Messages for the compute offering against the VM (getUnmanagedInstanceServiceOffering)."""
    out = []
    name = instance.get("name")
    cpu = int(instance.get("cpunumber") or 0)
    memory = int(instance.get("memory") or 0)
    speed = int(instance.get("cpuspeed") or 0)
    state = power_state(instance)
    if not cpu:
        return [(MSG_CPU_INVALID % (cpu, name), None, "cpu")]
    if not memory:
        return [(MSG_MEMORY_INVALID % (memory, name), None, "memory")]
    if offering.get("iscustomized"):
        extra = offering.get("serviceofferingdetails") or {}
        if "cpuSpeed" in (details or {}):
            try:
                speed = int(details["cpuSpeed"])
            except (TypeError, ValueError):
                pass
        if offering.get("cpunumber") is None:
            lo, hi = int(extra.get("mincpunumber", 1)), int(extra.get("maxcpunumber", INT_MAX))
            if cpu < lo or cpu > hi:
                out.append((MSG_CUSTOM_CPU % (lo, hi), "choose a service offering that allows %d CPUs" % cpu,
                            "custom_offering"))
        if offering.get("cpuspeed") is None and speed <= 0:
            out.append((MSG_CUSTOM_SPEED % INT_MAX,
                        "the VM has no CPU reservation: set details cpuSpeed (MHz) for this custom unconstrained "
                        "offering", "custom_offering"))
        if offering.get("memory") is None:
            lo, hi = int(extra.get("minmemory", 32)), int(extra.get("maxmemory", INT_MAX))
            if memory < lo or memory > hi:
                out.append((MSG_CUSTOM_MEMORY % (lo, hi), "choose a service offering that allows %d MB" % memory,
                            "custom_offering"))
        return out
    if state != "PowerOff":
        fix = "power the VM off before the import or choose a matching (or custom) service offering"
        if cpu != offering.get("cpunumber"):
            out.append((MSG_CPU_MISMATCH % (offering["id"], offering.get("cpunumber") or 0, cpu, state), fix,
                        "fixed_offering"))
        if memory != offering.get("memory"):
            out.append((MSG_MEMORY_MISMATCH % (offering["id"], offering.get("memory") or 0, memory, state), fix,
                        "fixed_offering"))
        if speed > 0 and speed != offering.get("cpuspeed"):
            out.append((MSG_SPEED_MISMATCH % (offering["id"], offering.get("cpuspeed") or 0, speed, state), fix,
                        "fixed_offering"))
    return out


def find_storage_pool(disk, zone, cluster, pools):
    """UnmanagedVMsManagerImpl.getStoragePool over listStoragePools items."""
    ds_host = disk.get("datastorehost") or ""
    ds_path = disk.get("datastorepath") or ""
    ds_name = disk.get("datastorename") or ""
    cluster_id = cluster.get("id") if cluster else None
    if disk.get("datastoretype"):
        for pool in pools:
            if pool.get("ipaddress") == ds_host and pool.get("path") == ds_path and \
                    pool.get("zoneid") == zone.get("id") and pool.get("clusterid") in (None, cluster_id):
                return pool
    candidates = [p for p in pools if cluster_id and p.get("clusterid") == cluster_id]
    candidates += [p for p in pools if p.get("zoneid") == zone.get("id")]
    search = ds_path if ds_path.strip() else ds_name
    for pool in candidates:
        if search and search in (pool.get("path") or ""):
            return pool
    return None


def match_network_by_vlan(nic, networks, zone):
    """The first guest network of the zone whose broadcast URI matches the NIC's VLAN/PVLAN.

    CloudStack does this for a NIC without an explicit network, and only when its VLAN is not 0.
    """
    uri = broadcast_uri(nic)
    if uri is None:
        return None
    for net in networks:
        if not is_guest_network(net) or net.get("zoneid") != zone.get("id"):
            continue
        if net.get("broadcasturi") == uri:
            return net
    return None


def _vlan_problem(nic, net):
    """checksOnlyNeededForVmware for an explicit (non-isolated) network."""
    uri = net.get("broadcasturi")
    vlan = int(nic.get("vlanid") or 0)
    pvlan = nic.get("pvlanid")
    if vlan and not pvlan and uri != "vlan://%d" % vlan:
        return MSG_VLAN_MISMATCH % (net["id"], uri, nic["id"], vlan)
    ptype = (nic.get("pvlantype") or "")[:1].lower()
    if vlan and pvlan and uri != "pvlan://%d-%s%d" % (vlan, ptype, int(pvlan)):
        return MSG_PVLAN_MISMATCH % (net["id"], uri, nic["id"], vlan, ptype, int(pvlan))
    return None


def map_nics(instance, explicit, networks, zone):
    """NIC id -> network: explicit ones, then CloudStack's VLAN match. Returns (mapping, how)."""
    mapping, how = {}, {}
    for nic in instance.get("nic") or []:
        nid = nic.get("id")
        if nid in (explicit or {}):
            mapping[nid] = explicit[nid]
            how[nid] = "explicit"
        else:
            net = match_network_by_vlan(nic, networks or [], zone)
            if net is not None:
                mapping[nid] = net
                how[nid] = "vlan"
    return mapping, how


def check_import(instance, request, ctx):
    """Every rule CloudStack applies to this import, in CloudStack's order.

    instance: the unmanaged VM (listUnmanagedInstances item or vsphere_unmanaged_facts item).
    request: name, host_name, display_name, account, domain (dict), project (dict),
      service_offering (dict), template (dict or None), nic_networks {nic id: network dict},
      nic_ip_addresses {nic id: ip or 'auto'}, data_disk_offerings {disk id: offering dict},
      details (dict), forced (bool).
    ctx (every key optional; a missing one skips the checks that need it): zone, cluster,
      networks (the zone's networks, CloudStack's order), vms (managed VMs of the zone),
      os_types, os_mappings (VMware guest OS mappings), storage_pools, hypervisor_version.

    Returns (problems, nic_map): a list of Problem, and NIC id -> network (explicit or by VLAN).
    """
    vm = instance.get("name") or request.get("name")
    problems = []

    def add(message, fix=None, rule=None):
        problems.append(Problem(vm, message, fix, rule))

    zone = ctx.get("zone") or {}
    cluster = ctx.get("cluster") or {}
    # hostname (getHostNameForImportInstance)
    host_name = request.get("host_name")
    if not host_name:
        if not verify_hostname(vm):
            add(MSG_HOSTNAME_FROM_NAME, "set host_name, e.g. '%s'" % sanitize_hostname(vm), "hostname")
        host_name = vm
    elif not verify_hostname(host_name):
        add(MSG_HOSTNAME, "use a host_name such as '%s'" % sanitize_hostname(host_name), "hostname")
    if request.get("domain") and not request.get("account"):
        add(MSG_DOMAIN_NEEDS_ACCOUNT, "set account together with domain", "owner")

    # guest OS (without a template CloudStack must recognise it)
    if request.get("template") is None and ctx.get("os_mappings") is not None:
        os_name = instance.get("osdisplayname") or ""
        os_id = instance.get("osid") or ""
        guest_os = None
        for o in ctx.get("os_types") or []:
            if os_name and o.get("description") == os_name:
                guest_os = o
                break
        mappings = ctx.get("os_mappings") or []
        mapping = None
        if guest_os is not None:
            mapping = next((m for m in mappings if m.get("ostypeid") == guest_os.get("id")), None)
        if mapping is None and os_id:
            mapping = next((m for m in mappings if m.get("osnameforhypervisor") == os_id), None)
        version = ctx.get("hypervisor_version") or "default"
        if mapping is None:
            fix = "set template to a template whose OS type fits '%s'" % (os_name or os_id)
            if guest_os is not None:
                add(MSG_OS_NO_MAPPING % (guest_os.get("id"), vm, "VMware", version), fix, "guest_os")
            else:
                add(MSG_OS_UNKNOWN % (vm, os_name, os_id, "VMware", version), fix, "guest_os")

    # compute offering
    offering = request.get("service_offering")
    if offering is not None:
        for message, fix, rule in check_service_offering(instance, offering, request.get("details") or {}):
            add(message, fix, rule)

    # disks: root + N-1 data disks with offerings, same data disk controller, sizes, storage pools
    disks = instance.get("disk") or []
    offerings = request.get("data_disk_offerings") or {}
    if not disks:
        add(MSG_NO_DISKS % vm, None, "disks")
    else:
        ids = [d.get("id") for d in disks]
        root, data = None, []
        if len(offerings) != len(disks) - 1:
            add(MSG_DISK_COUNT % (len(disks), len(offerings), len(disks) - 1),
                "set data_disk_offerings for every disk except the root disk (disks: %s)" % ", ".join(ids),
                "data_disks")
        else:
            without = [d for d in disks if d.get("id") not in offerings]
            if len(without) != 1:
                add(MSG_DISK_UNMAPPED % (len(disks), len(without) - 1, ", ".join(d.get("id") for d in without)),
                    "data_disk_offerings names disks the VM does not have: %s"
                    % ", ".join(sorted(k for k in offerings if k not in ids)), "data_disks")
            else:
                root = without[0]
                data = [d for d in disks if d is not root]
        if root is not None:
            if not root.get("controller"):
                add(MSG_ROOT_DISK % vm, None, "disks")
            if not root.get("capacity"):
                add(MSG_DISK_SIZE % root.get("id"), None, "disks")
            controller = None
            for d in data:
                if not controller:
                    controller = d.get("controller")
                elif controller != d.get("controller"):
                    add(MSG_DISK_CONTROLLERS % (controller, d.get("controller")),
                        "move the data disks to controllers of one type in vSphere before the import",
                        "disk_controllers")
                    break
            for d in data:
                off = offerings.get(d.get("id"))
                if not d.get("capacity"):
                    add(MSG_DISK_SIZE % d.get("id"), None, "disks")
                elif not isinstance(off, dict) or not off.get("id"):
                    continue  # an offering name only (no CloudStack to ask)
                elif not off.get("iscustomized") and not off.get("disksize"):
                    add(MSG_DISK_OFFERING_ZERO % off.get("id"), None, "disk_offering")
                elif not off.get("iscustomized") and int(off.get("disksize")) * GIB < int(d["capacity"]):
                    size_gb = int(d["capacity"]) // GIB
                    add(MSG_DISK_OFFERING_SMALL % (off.get("id"), int(off.get("disksize")), d.get("id"), size_gb),
                        "choose a disk offering of at least %d GB, or a custom one" % -(-int(d["capacity"]) // GIB),
                        "disk_offering")
        if ctx.get("storage_pools") is not None and zone:
            for d in disks:
                if find_storage_pool(d, zone, cluster, ctx["storage_pools"]) is None:
                    add(MSG_STORAGE_POOL % (d.get("label"), d.get("id"), d.get("datastorename"), zone.get("id")),
                        "add datastore %s to CloudStack as primary storage" % d.get("datastorename"),
                        "storage_pool")

    # NICs: IPs, adapters, networks, hostnames, MACs
    nics = instance.get("nic") or []
    ips = dict(request.get("nic_ip_addresses") or {})
    nic_ids = [n.get("id") for n in nics]
    for nid, ip in sorted(ips.items()):
        if ip != "auto" and not is_ip4(ip):
            add(MSG_IP_INVALID % (ip, nid), "give an IPv4 address or 'auto'", "ip")
    for key, what in (("nic_networks", "nic_networks"), ("nic_ip_addresses", "nic_ip_addresses")):
        for nid in sorted(request.get(key) or {}):
            if nid not in nic_ids:
                add("%s names NIC '%s', which the VM does not have" % (what, nid),
                    "the VM's NICs are: %s" % (", ".join(nic_ids) or "none"), "nic_id")
    for nic in nics:
        reported = nic.get("ipaddress") or []
        if ips.get(nic.get("id")) == "auto" and reported:
            if len(reported) > 1:
                add(MSG_AUTO_MULTIPLE_IPS % (reported[0], reported[1], nic.get("id")),
                    "give nic_ip_addresses an explicit address for %s" % nic.get("id"), "auto_ip")
            elif is_ip4(reported[0]):
                ips[nic.get("id")] = reported[0]
    adapter = None
    for nic in nics:
        if not adapter:
            adapter = nic.get("adaptertype")
        elif adapter != nic.get("adaptertype"):
            add(MSG_NIC_ADAPTERS % (adapter, nic.get("adaptertype")),
                "change the NICs to one adapter type in vSphere before the import", "nic_adapters")
            break
    networks = ctx.get("networks")
    explicit = request.get("nic_networks") or {}
    nic_map, _how = map_nics(instance, explicit, networks, zone)
    vms = ctx.get("vms")
    for nic in nics:
        nid = nic.get("id")
        net = nic_map.get(nid)
        if net is None:
            # without CloudStack's networks only a NIC without VLAN is sure to find none
            if networks is not None or not int(nic.get("vlanid") or 0):
                add(MSG_NO_NETWORK % nid,
                    "map it in nic_networks%s" % ("" if nic.get("vlanid") else " (its VLAN is 0: CloudStack "
                                                                               "cannot match it by VLAN)"),
                    "nic_network")
            continue
        if not net.get("id"):  # a network name only (no CloudStack to ask): nothing more to check
            continue
        if nid in explicit:
            if zone and net.get("zoneid") and net.get("zoneid") != zone.get("id"):
                add(MSG_NETWORK_ZONE % (net.get("id"), nid), "choose a network of zone %s" % zone.get("name"),
                    "nic_network")
                continue
            if net.get("type") != "Isolated":
                text = _vlan_problem(nic, net)
                if text:
                    add(text, "choose the network with broadcast URI %s" % broadcast_uri(nic), "nic_vlan")
        if vms is not None:
            for other in vms:
                on_net = any(n.get("networkid") == net.get("id") for n in other.get("nic") or [])
                if other.get("name") == host_name and on_net:
                    add(MSG_HOSTNAME_IN_NETWORK % (host_name, network_str(net), net.get("networkdomain")),
                        "set another host_name", "hostname_in_network")
                    break
        ip = ips.get(nid)
        if net.get("type") != "L2" and not ip:
            add(MSG_NIC_NEEDS_IP % (nid, net.get("id")),
                "set nic_ip_addresses for %s (an address in %s, or 'auto' when VMware Tools reports one)"
                % (nid, net.get("cidr") or net.get("name")), "ip")
        elif net.get("type") != "L2" and ip and ip != "auto" and is_ip4(ip):
            in_use = vms is not None and any(n.get("networkid") == net.get("id") and n.get("ipaddress") == ip
                                             for other in vms for n in other.get("nic") or [])
            if (net.get("cidr") and not in_cidr(ip, net["cidr"])) or in_use:
                add(MSG_IP_NOT_AVAILABLE % (ip, nid, net.get("id")), "choose a free address of %s"
                    % (net.get("cidr") or net.get("name")), "ip")
        if vms is not None and not request.get("forced"):
            mac = (nic.get("macaddress") or "").lower()
            for other in vms:
                if any(n.get("networkid") == net.get("id") and (n.get("macaddress") or "").lower() == mac
                       for n in other.get("nic") or []):
                    add(MSG_MAC_EXISTS % (nic.get("macaddress"), network_str(net)),
                        "set forced: true to let CloudStack give the NIC a new MAC address (VM %s has this one)"
                        % other.get("name"), "mac")
                    break
    return problems, nic_map


# ----------------------------------------------------------------------------------------------
# resolution of names and the API parameters
# ----------------------------------------------------------------------------------------------
def resolve_request(catalog, zone, options, resolve_error=Exception):
    """Names in options -> CloudStack objects. Returns (request, messages of what did not resolve).

    options: the module's options (service_offering, template, account, domain, project,
    nic_networks, nic_ip_addresses, data_disk_offerings, details, host_name, display_name, name,
    forced, migrate_allowed).
    """
    errors = []
    req = {
        "name": options.get("name"),
        "display_name": options.get("display_name"),
        "host_name": options.get("host_name"),
        "account": options.get("account"),
        "details": dict(options.get("details") or {}),
        "forced": bool(options.get("forced")),
        "migrate_allowed": bool(options.get("migrate_allowed")),
        "nic_ip_addresses": dict(options.get("nic_ip_addresses") or {}),
        "service_offering": None, "template": None, "domain": None, "project": None,
        "nic_networks": {}, "data_disk_offerings": {},
    }

    def attempt(fn, *args):
        try:
            return fn(*args)
        except resolve_error as e:
            errors.append(str(e))
            return None

    if options.get("service_offering"):
        req["service_offering"] = attempt(catalog.service_offering, options["service_offering"])
    if options.get("template"):
        # a template that does not resolve still means "not the dummy template" for the OS rule
        req["template"] = attempt(catalog.template, options["template"], zone) or {"name": options["template"]}
    if options.get("domain"):
        req["domain"] = attempt(catalog.domain, options["domain"])
    elif options.get("account"):
        req["domain"] = attempt(catalog.domain, "ROOT")
        req["domain_defaulted"] = True
    if options.get("account") and req["domain"] is not None:
        attempt(catalog.account, options["account"], req["domain"])
    if options.get("project"):
        req["project"] = attempt(catalog.project, options["project"], None)
    for nic, value in (options.get("nic_networks") or {}).items():
        net = attempt(catalog.network, value, zone)
        if net is not None:
            req["nic_networks"][nic] = net
    for disk, value in (options.get("data_disk_offerings") or {}).items():
        off = attempt(catalog.disk_offering, value)
        if off is not None:
            req["data_disk_offerings"][disk] = off
    return req, errors


def build_api_params(cluster_id, request, nic_map=None):
    """The exact importUnmanagedInstance parameters (lists of dicts become name[i].key on the wire).

    nic_map (NIC id -> network) is sent whole, so that the networks CloudStack would match by
    VLAN are sent explicitly and the call does what the checks validated.
    """
    params = {"clusterid": cluster_id, "name": request["name"],
              "serviceofferingid": request["service_offering"]["id"]}
    if request.get("display_name"):
        params["displayname"] = request["display_name"]
    if request.get("host_name"):
        params["hostname"] = request["host_name"]
    if request.get("template"):
        params["templateid"] = request["template"]["id"]
    if request.get("project"):
        params["projectid"] = request["project"]["id"]
    elif request.get("account"):
        params["account"] = request["account"]
        if request.get("domain"):
            params["domainid"] = request["domain"]["id"]
    nets = nic_map if nic_map is not None else request.get("nic_networks") or {}
    if nets:
        params["nicnetworklist"] = [{"nic": nic, "network": net["id"]} for nic, net in sorted(nets.items())]
    ips = request.get("nic_ip_addresses") or {}
    if ips:
        params["nicipaddresslist"] = [{"nic": nic, "ip4Address": ip} for nic, ip in sorted(ips.items())]
    disks = request.get("data_disk_offerings") or {}
    if disks:
        params["datadiskofferinglist"] = [{"disk": d, "diskOffering": off["id"]} for d, off in sorted(disks.items())]
    if request.get("details"):
        params["details"] = dict((k, str(v)) for k, v in sorted(request["details"].items()))
    params["migrateallowed"] = bool(request.get("migrate_allowed"))
    params["forced"] = bool(request.get("forced"))
    return params
