# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""Plain-Python facts about vSphere VMs and networks, in CloudStack's shapes.

Input: the property sets a PropertyCollector returns, already turned into plain
data by ``vsphere.to_plain`` (managed objects become their moid string, data
objects become dicts with a ``_type`` key holding the vSphere type name, e.g.
``{"_type": "VirtualDisk", "key": 2000, ...}``). Output: JSON-ready dicts.

``unmanaged_instance`` gives one VM in the shape of CloudStack's
``listUnmanagedInstances`` (``name``, ``osdisplayname``, ``osid``, ``memory``,
``powerstate``, ``cpunumber``, ``cpucorespersocket``, ``cpuspeed``, ``disk[]``,
``nic[]`` with CloudStack's key names and value rules, see
``VmwareHelper.getUnmanagedInstance``), plus the vSphere side: ``cluster``,
``host``, ``datacenter``, ``folder``, ``moid``, ``instanceuuid``,
``internalname``, ``customattributes``.

``network_facts`` lists every standard and distributed portgroup with its
switch, VLAN, PVLAN or trunk ranges, hosts, clusters and the VMs on it.

Nothing here imports pyVmomi or Ansible: unit tests feed fake property sets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

#: CloudStack's custom attribute holding a managed VM's internal name (i-2-34-VM)
INTERNAL_NAME_FIELD = "cloud.vm.internal.name"

#: properties fetched per type in the inventory pass (one PropertyCollector call)
INVENTORY_PROPERTIES = {
    "Datacenter": ["name", "parent", "vmFolder", "hostFolder", "networkFolder"],
    "Folder": ["name", "parent"],
    "ComputeResource": ["name", "parent"],
    "HostSystem": ["name", "parent", "network", "config.network.portgroup", "config.network.vswitch"],
    "Network": ["name", "parent", "host"],
    "DistributedVirtualPortgroup": ["key", "config.distributedVirtualSwitch", "config.defaultPortConfig", "tag"],
    "DistributedVirtualSwitch": ["name", "parent", "uuid", "config"],
    "Datastore": ["name", "summary.type", "info"],
}

#: properties fetched per VM for vsphere_unmanaged_facts
VM_PROPERTIES = [
    "name", "parent", "summary.config", "config.hardware.numCoresPerSocket", "config.hardware.device",
    "runtime.host", "runtime.powerState", "runtime.maxCpuUsage", "guest.toolsStatus", "guest.guestId",
    "guest.guestFullName", "guest.net", "customValue",
]

#: properties fetched per VM for vsphere_network_facts
VM_NETWORK_PROPERTIES = ["name", "parent", "summary.config.template", "config.hardware.device", "runtime.host"]

# disk controller type names as CloudStack's DiskControllerType.getType() reports them
CONTROLLER_TYPES = {
    "VirtualLsiLogicController": "lsilogic",
    "VirtualLsiLogicSASController": "lsisas1068",
    "ParaVirtualSCSIController": "pvscsi",
    "VirtualBusLogicController": "buslogic",
    "VirtualIDEController": "ide",
    "VirtualAHCIController": "sata",
    "VirtualSATAController": "sata",
    "VirtualNVMEController": "nvme",
}

# NIC adapter types as CloudStack's VirtualEthernetCardType names them (anything else: E1000)
ADAPTER_TYPES = {
    "VirtualPCNet32": "PCNet32",
    "VirtualVmxnet2": "Vmxnet2",
    "VirtualVmxnet3": "Vmxnet3",
    "VirtualVmxnet3Vrdma": "Vmxnet3",
}

NIC_TYPES = frozenset([
    "VirtualEthernetCard", "VirtualE1000", "VirtualE1000e", "VirtualPCNet32", "VirtualVmxnet", "VirtualVmxnet2",
    "VirtualVmxnet3", "VirtualVmxnet3Vrdma", "VirtualSriovEthernetCard",
])

POWER_STATES = {"poweredOn": "PowerOn", "poweredOff": "PowerOff"}

UPLINK_TAG = "SYSTEM/DVS.UPLINKPG"


class ScopeError(ValueError):
    """A datacenter, cluster, host or folder of the scope does not exist (or is ambiguous)."""


# ----------------------------------------------------------------------------------------------
# small decoders
# ----------------------------------------------------------------------------------------------
def label_number(label):
    """The number CloudStack sorts devices by: the digits of the label ('Hard disk 10' -> 10)."""
    digits = re.sub(r"\D", "", label or "")
    return int(digits) if digits else 0


def controller_type(type_name):
    """'ParaVirtualSCSIController' -> 'pvscsi'; unknown controllers -> 'none' (as CloudStack)."""
    return CONTROLLER_TYPES.get(type_name, "none")


def adapter_type(type_name):
    """'VirtualVmxnet3' -> 'Vmxnet3'; E1000, E1000e, SR-IOV and others -> 'E1000' (as CloudStack)."""
    return ADAPTER_TYPES.get(type_name, "E1000")


def power_state(state):
    return POWER_STATES.get(state, "PowerUnknown")


def is_nic(device):
    return device.get("_type") in NIC_TYPES or ("macAddress" in device and "addressType" in device)


def format_range(start, end):
    return "%d" % start if start == end else "%d-%d" % (start, end)


def pvlan_map(dvs_config):
    """{secondary id: (primary id, type)} from a VMware DVS config's pvlanConfig."""
    out = {}
    for entry in (dvs_config or {}).get("pvlanConfig") or []:
        out[int(entry.get("secondaryVlanId"))] = (int(entry.get("primaryVlanId")), entry.get("pvlanType"))
    return out


def decode_vlan(spec, pvlans=None):
    """A VLAN spec (distributed port setting's ``vlan``, or a standard portgroup's vlanId) in CloudStack terms.

    Returns {"vlanid": int, "pvlanid": int|None, "pvlantype": str|None, "vlantrunk": [str]}:
    - VLAN id spec (or an int): 1-4094 -> that VLAN; 0 -> 0 (untagged); 4095 (standard "all VLANs") -> trunk 0-4094.
    - PVLAN spec: vlanid is the primary VLAN, pvlanid the secondary id, pvlantype promiscuous/isolated/community
      (looked up in the switch's PVLAN map, as CloudStack's retrieveVlanFromPvlan does).
    - trunk spec: vlanid 0 and the ranges ("400-409", "4000"): CloudStack gives trunks no VLAN.
    """
    out = {"vlanid": 0, "pvlanid": None, "pvlantype": None, "vlantrunk": []}
    if spec is None:
        return out
    if isinstance(spec, int):
        kind, value = "VmwareDistributedVirtualSwitchVlanIdSpec", spec
    else:
        kind = spec.get("_type")
        value = spec.get("vlanId") if kind != "VmwareDistributedVirtualSwitchPvlanSpec" else spec.get("pvlanId")
    if kind == "VmwareDistributedVirtualSwitchTrunkVlanSpec":
        ranges = value or []
        out["vlantrunk"] = [format_range(int(r.get("start", 0)), int(r.get("end", 0))) for r in ranges]
    elif kind == "VmwareDistributedVirtualSwitchPvlanSpec":
        secondary = int(value or 0)
        if 0 < secondary < 4095:
            primary, kind_name = (pvlans or {}).get(secondary, (None, None))
            if primary is not None:
                out.update(vlanid=primary, pvlanid=secondary, pvlantype=kind_name)
    elif kind == "VmwareDistributedVirtualSwitchVlanIdSpec":
        vlan = int(value or 0)
        if vlan == 4095:
            out["vlantrunk"] = ["0-4094"]
        elif 0 < vlan < 4095:
            out["vlanid"] = vlan
    return out


def vlan_kind(vlan):
    if vlan["vlantrunk"]:
        return "trunk"
    if vlan["pvlanid"]:
        return "pvlan"
    if vlan["vlanid"]:
        return "vlan"
    return "none"


def datastore_from_path(path):
    """'[LocalDS_0] vm/vm.vmdk' -> 'LocalDS_0'."""
    m = re.match(r"^\[([^\]]*)\]", path or "")
    return m.group(1) if m else None


# ----------------------------------------------------------------------------------------------
# inventory: the objects of the first pass, with paths and lookups
# ----------------------------------------------------------------------------------------------
class Inventory(object):
    """Datacenters, folders, compute resources, hosts, networks, switches and datastores by moid.

    objects: iterable of (type name, moid, {property path: plain value}).
    custom_fields: [{"key": int, "name": str, ...}] from the CustomFieldsManager.
    """

    def __init__(self, objects, custom_fields=None):
        self.objects = {}
        self.types = {}
        for kind, moid, props in objects:
            self.objects[moid] = props
            self.types[moid] = kind
        self.custom_fields = dict((int(f["key"]), f.get("name")) for f in custom_fields or [])
        self._paths = {}
        self._by_type = {}
        self.dvpg_by_key = {}
        self.dvs_by_uuid = {}
        for moid, kind in self.types.items():
            props = self.objects[moid]
            if kind == "DistributedVirtualPortgroup":
                self.dvpg_by_key[props.get("key") or moid] = moid
            elif kind in ("DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"):
                if props.get("uuid"):
                    self.dvs_by_uuid[props["uuid"]] = moid

    # generic --------------------------------------------------------------
    def of_type(self, *kinds):
        key = tuple(sorted(kinds))
        if key not in self._by_type:
            self._by_type[key] = sorted(m for m, k in self.types.items() if k in kinds)
        return self._by_type[key]

    def name(self, moid):
        if moid is None:
            return None
        return (self.objects.get(moid) or {}).get("name")

    def parent(self, moid):
        return (self.objects.get(moid) or {}).get("parent")

    def ancestors(self, moid):
        seen = set()
        moid = self.parent(moid)
        while moid and moid not in seen:
            seen.add(moid)
            yield moid
            moid = self.parent(moid)

    def datacenter_of(self, moid):
        if self.types.get(moid) == "Datacenter":
            return moid
        for a in self.ancestors(moid):
            if self.types.get(a) == "Datacenter":
                return a
        return None

    def path(self, moid):
        """Inventory path as govc and vmware_vm_info print it: /DC0/vm/Apps/Web."""
        if moid in self._paths:
            return self._paths[moid]
        names = [self.name(moid)]
        for a in self.ancestors(moid):
            if self.parent(a) is None:  # the root folder is not part of paths
                break
            names.append(self.name(a))
        path = "/" + "/".join(n or "" for n in reversed(names))
        self._paths[moid] = path
        return path

    # hosts -----------------------------------------------------------------
    def cluster_of_host(self, host):
        parent = self.parent(host)
        return parent if self.types.get(parent) == "ClusterComputeResource" else None

    def host_portgroup(self, host, name):
        for pg in (self.objects.get(host) or {}).get("config.network.portgroup") or []:
            if (pg.get("spec") or {}).get("name") == name:
                return pg.get("spec")
        return None

    def network_hosts(self, net):
        hosts = set((self.objects.get(net) or {}).get("host") or [])
        for h in self.of_type("HostSystem"):
            if net in (self.objects[h].get("network") or []):
                hosts.add(h)
        return sorted(hosts)

    # distributed switches ---------------------------------------------------
    def dvs_of(self, dvpg):
        return (self.objects.get(dvpg) or {}).get("config.distributedVirtualSwitch")

    def is_uplink(self, dvpg):
        props = self.objects.get(dvpg) or {}
        if any((t or {}).get("key") == UPLINK_TAG for t in props.get("tag") or []):
            return True
        dvs = self.objects.get(self.dvs_of(dvpg)) or {}
        return dvpg in ((dvs.get("config") or {}).get("uplinkPortgroup") or [])

    def dvpg_vlan(self, dvpg):
        props = self.objects.get(dvpg) or {}
        setting = props.get("config.defaultPortConfig") or {}
        dvs = self.objects.get(self.dvs_of(dvpg)) or {}
        return decode_vlan(setting.get("vlan"), pvlan_map(dvs.get("config")))

    # datastores --------------------------------------------------------------
    def datastore(self, moid, name=None):
        """{"datastorename", "datastoretype", "datastorehost", "datastorepath"} of a disk's datastore."""
        props = self.objects.get(moid) if moid else None
        if props is None and name:
            for m in self.of_type("Datastore"):
                if self.objects[m].get("name") == name:
                    props = self.objects[m]
                    break
        out = {"datastorename": name, "datastoretype": None, "datastorehost": None, "datastorepath": None}
        if not props:
            return out
        info = props.get("info") or {}
        nas = info.get("nas") or {}
        out["datastorename"] = props.get("name") or info.get("name") or name
        out["datastoretype"] = nas.get("type") or props.get("summary.type")
        if nas:
            out["datastorehost"] = nas.get("remoteHost")
            out["datastorepath"] = nas.get("remotePath")
        return out

    # scope -------------------------------------------------------------------
    def _find(self, kinds, name, datacenter, what, hint):
        found = [m for m in self.of_type(*kinds) if self.name(m) == name
                 and (datacenter is None or self.datacenter_of(m) == datacenter)]
        if not found:
            known = sorted(set(self.name(m) for m in self.of_type(*kinds)
                               if datacenter is None or self.datacenter_of(m) == datacenter))
            raise ScopeError("%s '%s' not found%s; %s: %s" % (
                what, name, " in datacenter '%s'" % self.name(datacenter) if datacenter else "",
                hint, ", ".join(known) or "none"))
        if len(found) > 1:
            raise ScopeError("%s name '%s' exists in datacenters %s: set datacenter to choose one" % (
                what, name, ", ".join(sorted(self.name(self.datacenter_of(m)) or "?" for m in found))))
        return found[0]

    def resolve_folder(self, folder, datacenter):
        """A VM folder by absolute path (/DC0/vm/Apps) or by path under a datacenter's vm folder (Apps/Web)."""
        want = folder.strip()
        candidates = []
        for m in self.of_type("Folder", "Datacenter"):
            path = self.path(m)
            dc = self.datacenter_of(m)
            if datacenter is not None and dc != datacenter:
                continue
            if want.startswith("/"):
                if path.rstrip("/") == want.rstrip("/"):
                    candidates.append(m)
            elif dc is not None:
                vm_folder = (self.objects.get(dc) or {}).get("vmFolder")
                if vm_folder and path == "%s/%s" % (self.path(vm_folder), want.strip("/")):
                    candidates.append(m)
        if not candidates:
            raise ScopeError("folder '%s' not found%s; give an inventory path such as /DC0/vm/Apps, or a path "
                             "under the datacenter's VM folder such as Apps/Web" % (
                                 folder, " in datacenter '%s'" % self.name(datacenter) if datacenter else ""))
        if len(candidates) > 1:
            raise ScopeError("folder '%s' exists in datacenters %s: set datacenter, or give the full path" % (
                folder, ", ".join(sorted(self.name(self.datacenter_of(m)) or "?" for m in candidates))))
        return candidates[0]

    def resolve_scope(self, datacenter=None, cluster=None, host=None, folder=None):
        """Scope dict with the moids of the given names and "root": where the VM container view starts."""
        scope = {"datacenter": None, "cluster": None, "host": None, "folder": None}
        if datacenter:
            scope["datacenter"] = self._find(["Datacenter"], datacenter, None, "datacenter", "datacenters")
        dc = scope["datacenter"]
        if cluster:
            scope["cluster"] = self._find(["ClusterComputeResource"], cluster, dc, "cluster", "clusters")
            dc = dc or self.datacenter_of(scope["cluster"])
        if host:
            scope["host"] = self._find(["HostSystem"], host, dc, "host", "hosts")
            if scope["cluster"] and self.cluster_of_host(scope["host"]) != scope["cluster"]:
                raise ScopeError("host '%s' is not in cluster '%s'" % (host, cluster))
            dc = dc or self.datacenter_of(scope["host"])
        if folder:
            scope["folder"] = self.resolve_folder(folder, dc)
        scope["root"] = scope["host"] or scope["cluster"] or scope["folder"] or scope["datacenter"]
        return scope

    def host_in_scope(self, host, scope):
        if scope.get("host") and host != scope["host"]:
            return False
        if scope.get("cluster") and self.cluster_of_host(host) != scope["cluster"]:
            return False
        if scope.get("datacenter") and self.datacenter_of(host) != scope["datacenter"]:
            return False
        return True

    def vm_in_scope(self, vm_props, scope):
        host = vm_props.get("runtime.host")
        if scope.get("host") or scope.get("cluster"):
            if not host or not self.host_in_scope(host, scope):
                return False
        parent = vm_props.get("parent")
        if scope.get("datacenter"):
            where = parent or host
            if not where or self.datacenter_of(where) != scope["datacenter"]:
                return False
        if scope.get("folder"):
            if not parent or (parent != scope["folder"] and scope["folder"] not in self.ancestors(parent)):
                return False
        return True


# ----------------------------------------------------------------------------------------------
# one VM in CloudStack's listUnmanagedInstances shape
# ----------------------------------------------------------------------------------------------
def _is_template(props):
    summary = props.get("summary.config") or {}
    return bool(summary.get("template") if "template" in summary else props.get("summary.config.template"))


def disk_facts(vm_moid, devices, inventory):
    """The VM's disks as CloudStack lists them, sorted by the number in their label."""
    by_key = dict((d.get("key"), d) for d in devices or [])
    vm_number = (vm_moid or "").split("-")[-1]
    disks = []
    for d in devices or []:
        if d.get("_type") != "VirtualDisk":
            continue
        backing = d.get("backing") or {}
        controller = by_key.get(d.get("controllerKey")) or {}
        path = backing.get("fileName")
        capacity = d.get("capacityInBytes") or (int(d.get("capacityInKB") or 0) * 1024)
        disk = {
            "id": d.get("diskObjectId") or "%s-%s" % (vm_number, d.get("key")),
            "label": (d.get("deviceInfo") or {}).get("label") or "",
            "capacity": int(capacity),
            "controller": controller_type(controller.get("_type")),
            "controllerunit": controller.get("busNumber"),
            "imagepath": path,
            "position": d.get("unitNumber"),
        }
        disk.update(inventory.datastore(backing.get("datastore"), datastore_from_path(path)))
        disks.append(disk)
    disks.sort(key=lambda x: (label_number(x["label"]), x["label"]))
    return disks


def nic_network(nic, host, inventory):
    """(network name, vlan dict, switch name, switch type) of a NIC's backing."""
    backing = nic.get("backing") or {}
    kind = backing.get("_type") or ""
    if "port" in backing or kind.endswith("DistributedVirtualPortBackingInfo"):
        port = backing.get("port") or {}
        dvpg = inventory.dvpg_by_key.get(port.get("portgroupKey"))
        dvs = inventory.dvs_by_uuid.get(port.get("switchUuid")) or inventory.dvs_of(dvpg)
        vlan = inventory.dvpg_vlan(dvpg) if dvpg else decode_vlan(None)
        return inventory.name(dvpg) or port.get("portgroupKey"), vlan, inventory.name(dvs), "distributed"
    if "opaqueNetworkId" in backing:
        return backing.get("opaqueNetworkId"), decode_vlan(None), None, "opaque"
    name = backing.get("deviceName") or inventory.name(backing.get("network"))
    spec = inventory.host_portgroup(host, name) if host else None
    if spec is None and backing.get("network"):
        for h in inventory.network_hosts(backing["network"]):
            spec = inventory.host_portgroup(h, name)
            if spec:
                break
    if spec is None:
        return name, decode_vlan(None), None, "standard"
    return name, decode_vlan(int(spec.get("vlanId") or 0)), spec.get("vswitchName"), "standard"


def guest_ips(props):
    """{mac: [IPv4...]} from guest.net, only when VMware Tools is OK (as CloudStack)."""
    if props.get("guest.toolsStatus") != "toolsOk":
        return {}
    out = {}
    for entry in props.get("guest.net") or []:
        ips = [ip for ip in entry.get("ipAddress") or [] if re.match(r"^\d{1,3}(\.\d{1,3}){3}$", ip)]
        if ips and entry.get("macAddress"):
            out[entry["macAddress"].lower()] = ips
    return out


def nic_facts(props, inventory):
    """The VM's NICs as CloudStack lists them, sorted by the number in their label."""
    ips = guest_ips(props)
    host = props.get("runtime.host")
    nics = []
    for d in props.get("config.hardware.device") or []:
        if not is_nic(d):
            continue
        name, vlan, switch, switch_type = nic_network(d, host, inventory)
        slot = (d.get("slotInfo") or {}).get("pciSlotNumber")
        mac = d.get("macAddress")
        nics.append({
            "id": (d.get("deviceInfo") or {}).get("label") or "",
            "macaddress": mac,
            "networkname": name,
            "vlanid": vlan["vlanid"],
            "pvlanid": vlan["pvlanid"],
            "pvlantype": vlan["pvlantype"],
            "vlantrunk": vlan["vlantrunk"],
            "pcislot": str(slot) if slot is not None else None,
            "adaptertype": adapter_type(d.get("_type")),
            "ipaddress": list(ips.get((mac or "").lower(), [])),
            "switchname": switch,
            "switchtype": switch_type,
        })
    nics.sort(key=lambda x: (label_number(x["id"]), x["id"]))
    return nics


def custom_attributes(props, inventory):
    out = {}
    for cv in props.get("customValue") or []:
        name = inventory.custom_fields.get(int(cv.get("key", -1)), str(cv.get("key")))
        out[name] = cv.get("value")
    return out


def tag_facts(tags):
    """[{"name", "category"}] -> (sorted tag names, {category: sorted tag names})."""
    names = sorted(set(t.get("name") for t in tags or [] if t.get("name")))
    by_category = {}
    for t in tags or []:
        if t.get("name"):
            by_category.setdefault(t.get("category") or "", set()).add(t["name"])
    return names, dict((c, sorted(n)) for c, n in by_category.items())


def unmanaged_instance(moid, props, inventory, tags=None):
    """One VM in the shape of CloudStack's listUnmanagedInstances, plus its vSphere location.

    tags: the VM's vSphere tags ([{"name", "category"}]) when they were read; adds "tags" and "tagcategories".
    """
    summary = props.get("summary.config") or {}
    host = props.get("runtime.host")
    cluster = inventory.cluster_of_host(host) if host else None
    cpus = int(summary.get("numCpu") or 0)
    state = props.get("runtime.powerState")
    speed = int(summary.get("cpuReservation") or 0)
    if state == "poweredOn" and cpus and props.get("runtime.maxCpuUsage") is not None:
        speed = int(props["runtime.maxCpuUsage"]) // cpus
    attributes = custom_attributes(props, inventory)
    parent = props.get("parent")
    where = parent or host
    instance = {
        "name": props.get("name"),
        "cluster": inventory.name(cluster),
        "host": inventory.name(host),
        "datacenter": inventory.name(inventory.datacenter_of(where)) if where else None,
        "folder": inventory.path(parent) if parent else None,
        "moid": moid,
        "instanceuuid": summary.get("instanceUuid"),
        "internalname": attributes.get(INTERNAL_NAME_FIELD),
        "osid": props.get("guest.guestId") or summary.get("guestId"),
        "osdisplayname": props.get("guest.guestFullName") or summary.get("guestFullName"),
        "memory": int(summary.get("memorySizeMB") or 0),
        "powerstate": power_state(state),
        "cpunumber": cpus,
        "cpucorespersocket": int(props.get("config.hardware.numCoresPerSocket") or 1),
        "cpuspeed": speed,
        "disk": disk_facts(moid, props.get("config.hardware.device"), inventory),
        "nic": nic_facts(props, inventory),
        "customattributes": attributes,
    }
    if tags is not None:
        instance["tags"], instance["tagcategories"] = tag_facts(tags)
    return instance


def unmanaged_instances(inventory, vms, scope=None, exclude=None, names=None, tags=None):
    """Every VM of vms (moid -> props) in scope that is not a template and not excluded.

    exclude: names or internal names (cloud.vm.internal.name) of VMs CloudStack already manages.
    names: when given, only these VM names.
    tags: {moid: [{"name", "category"}]} when vSphere tags were read (None: not read).
    Returns {"instances": [...], "excluded": [names], "templates": [names]}, all sorted by name.
    """
    scope = scope or {}
    exclude = set(exclude or [])
    wanted = set(names) if names else None
    instances, excluded, templates = [], [], []
    for moid in sorted(vms):
        props = vms[moid]
        name = props.get("name")
        if not inventory.vm_in_scope(props, scope):
            continue
        if wanted is not None and name not in wanted:
            continue
        if _is_template(props):
            templates.append(name)
            continue
        attributes = custom_attributes(props, inventory)
        if name in exclude or (attributes.get(INTERNAL_NAME_FIELD) and attributes[INTERNAL_NAME_FIELD] in exclude):
            excluded.append(name)
            continue
        instances.append(unmanaged_instance(moid, props, inventory,
                                            None if tags is None else tags.get(moid, [])))
    instances.sort(key=lambda i: (i["name"] or "", i["moid"]))
    return {"instances": instances, "excluded": sorted(excluded), "templates": sorted(templates)}


# ----------------------------------------------------------------------------------------------
# networks: what discover_networks.py meant to report
# ----------------------------------------------------------------------------------------------
def _entry(inventory, moid, portgroup, switch, switch_type, vlan, hosts):
    clusters = sorted(set(inventory.name(c) for c in (inventory.cluster_of_host(h) for h in hosts) if c))
    dc = inventory.datacenter_of(moid)
    return {
        "portgroup": portgroup,
        "moid": moid,
        "switch": switch,
        "switchtype": switch_type,
        "datacenter": inventory.name(dc),
        "vlanid": vlan["vlanid"],
        "pvlanid": vlan["pvlanid"],
        "pvlantype": vlan["pvlantype"],
        "vlantrunk": vlan["vlantrunk"],
        "vlantype": vlan_kind(vlan),
        "hosts": sorted(inventory.name(h) for h in hosts),
        "clusters": clusters,
        "virtualmachines": [],
        "_hosts": set(hosts),
    }


def _network_in_scope(inventory, moid, hosts_in_scope, scope):
    if scope.get("host") or scope.get("cluster"):
        return bool(hosts_in_scope)
    if scope.get("datacenter"):
        return inventory.datacenter_of(moid) == scope["datacenter"]
    return True


def network_facts(inventory, vms, scope=None, used_only=False):
    """Every standard and distributed portgroup in scope, with the VMs (not templates) and NICs on it.

    A standard portgroup whose hosts disagree on its switch or VLAN gives one entry per variant.
    Uplink portgroups of distributed switches are left out. Sorted by datacenter, switch, portgroup.
    """
    scope = scope or {}
    entries = []
    by_dvpg = {}
    by_std = {}
    for moid in inventory.of_type("DistributedVirtualPortgroup"):
        if inventory.is_uplink(moid):
            continue
        hosts = [h for h in inventory.network_hosts(moid) if inventory.host_in_scope(h, scope)]
        if not _network_in_scope(inventory, moid, hosts, scope):
            continue
        e = _entry(inventory, moid, inventory.name(moid), inventory.name(inventory.dvs_of(moid)), "distributed",
                   inventory.dvpg_vlan(moid), hosts)
        entries.append(e)
        by_dvpg[moid] = e
    for moid in inventory.of_type("Network"):
        name = inventory.name(moid)
        variants = {}
        for h in inventory.network_hosts(moid):
            if not inventory.host_in_scope(h, scope):
                continue
            spec = inventory.host_portgroup(h, name) or {}
            key = (spec.get("vswitchName"), int(spec.get("vlanId") or 0))
            variants.setdefault(key, []).append(h)
        if not variants:
            if scope.get("host") or scope.get("cluster") or not _network_in_scope(inventory, moid, [], scope):
                continue
            variants[(None, 0)] = []
        for (switch, vlan_id), hosts in sorted(variants.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            e = _entry(inventory, moid, name, switch, "standard", decode_vlan(vlan_id), hosts)
            entries.append(e)
            by_std.setdefault(moid, []).append(e)

    std_by_name = {}
    for moid, es in by_std.items():
        std_by_name.setdefault(inventory.name(moid), []).extend(es)
    for vm_moid in sorted(vms):
        props = vms[vm_moid]
        if _is_template(props) or not inventory.vm_in_scope(props, scope):
            continue
        host = props.get("runtime.host")
        per_entry = {}
        for d in props.get("config.hardware.device") or []:
            if not is_nic(d):
                continue
            backing = d.get("backing") or {}
            target = None
            if "port" in backing:
                target = by_dvpg.get(inventory.dvpg_by_key.get((backing.get("port") or {}).get("portgroupKey")))
            else:
                candidates = by_std.get(backing.get("network")) or std_by_name.get(backing.get("deviceName")) or []
                for e in candidates:
                    if host in e["_hosts"]:
                        target = e
                        break
                if target is None and candidates:
                    target = candidates[0]
            if target is None:
                continue
            per_entry.setdefault(id(target), (target, []))[1].append({
                "id": (d.get("deviceInfo") or {}).get("label") or "",
                "macaddress": d.get("macAddress"),
            })
        for target, nics in per_entry.values():
            nics.sort(key=lambda n: (label_number(n["id"]), n["id"]))
            target["virtualmachines"].append({
                "name": props.get("name"),
                "moid": vm_moid,
                "host": inventory.name(host),
                "nics": nics,
            })
    out = []
    for e in entries:
        e.pop("_hosts")
        e["virtualmachines"].sort(key=lambda v: (v["name"] or "", v["moid"]))
        if used_only and not e["virtualmachines"]:
            continue
        out.append(e)
    out.sort(key=lambda e: (e["datacenter"] or "", e["switchtype"], e["switch"] or "", e["portgroup"] or "",
                            e["vlanid"], e["moid"]))
    return out
