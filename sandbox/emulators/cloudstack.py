"""Apache CloudStack API emulator for the sandbox (``/client/api``, JSON answers).

Follows shared/reference/cloudstack-import-api.md and CloudStack's own code
(ApiServer.verifyRequest, ImportUnmanagedInstanceCmd, UnmanagedVMsManagerImpl):

- Every request is signed: parameters sorted by name, values URL-encoded the way
  ``java.net.URLEncoder`` does with ``+`` turned into ``%20``, joined with ``&``, lowercased,
  HMAC-SHA1 with the secret key, base64. ``signatureVersion=3`` needs an ``expires`` in the
  future. Anything else answers HTTP 401 ``unable to verify user credentials and/or request
  signature``. Errors are ``{"<command>response": {"uuidList": [], "errorcode": N,
  "cserrorcode": M, "errortext": "..."}}`` with HTTP status N (431 bad parameter, 432 unknown
  command, 530 internal error).
- Commands: listZones, listClusters, listHosts, listNetworks, listServiceOfferings,
  listDiskOfferings, listTemplates, listOsTypes, listGuestOsMapping, listStoragePools,
  listDomains, listAccounts, listProjects, listVirtualMachines, listSystemVms, listRouters,
  listUnmanagedInstances,
  importUnmanagedInstance (async) and queryAsyncJobResult. List commands page with
  ``page``/``pagesize`` and answer ``count``.
- importUnmanagedInstance runs as an async job (``jobstatus`` 0, then 1 done or 2 failed after
  ``--job-seconds``) and applies CloudStack's rules in CloudStack's order with CloudStack's
  messages (hostname, guest OS, fixed/custom offering, N-1 data disk offerings, data disk
  controllers, disk offering size, storage pool, NIC adapters, NIC networks explicit or by
  VLAN/PVLAN, IPs, ``auto`` with several IPs, duplicate hostname, existing MAC without
  ``forced``). An imported VM becomes managed: listVirtualMachines shows it and
  listUnmanagedInstances no longer lists it.
- Unmanaged VMs come from a vCenter (the sandbox vcsim, read with pyvmomi: ``--vcenter-url``,
  ``--vcenter-username``, password in ``$CLOUDSTACK_EMULATOR_VCENTER_PASSWORD``) or from a JSON
  file (``--instances``: a list, or ``{"instances": [...]}`` as vsphere_unmanaged_facts returns
  it) in the listUnmanagedInstances shape (``cluster``/``host`` names instead of ids).
- Seed data (zones, clusters, networks, offerings, templates, OS types, storage pools, domains,
  accounts, projects, managed VMs) from ``--seed`` (default: cloudstack_seed.json next to this
  file). ``--auto-networks`` adds an L2 network for every VLAN/PVLAN of the source's NICs that
  has none, ``--auto-storage-pools`` a pool for every datastore; with a vCenter, its clusters
  are added to the first zone when the seed lacks them.
- ``/_sandbox/...`` for tests: ``GET /_sandbox/state`` (managed VMs, jobs, faults, request
  counts per command), ``POST /_sandbox/reset`` (back to the seed), ``GET|POST
  /_sandbox/faults`` (JSON merged into the current set):

  ``fail_next_import``: message   the next import job fails with this errortext (530)
  ``job_seconds``: float          how long async jobs stay pending (slow jobs)
  ``http_530_next``: N            the next N API requests answer HTTP 530
  ``http_530_commands``: [..]     ...only for these commands (default: any)

  ``POST /_sandbox/instances`` (JSON list) adds unmanaged VMs to the JSON source.

Run: ``python sandbox/emulators/cloudstack.py --port 8080 --instances vms.json`` with the keys in
``$CLOUDSTACK_EMULATOR_API_KEY`` and ``$CLOUDSTACK_EMULATOR_SECRET_KEY`` (kept out of ``ps``). Standard library only, plus
pyvmomi for a vCenter source. Never imported by the collection's plugins.
"""

import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEED = os.path.join(HERE, "cloudstack_seed.json")
NAMESPACE = uuid.UUID("6f1c3e4a-1d6b-4f0e-9a57-0c0a5c1d2e3f")
AUTH_ERROR = "unable to verify user credentials and/or request signature"
DUMMY_TEMPLATE = "system-default-vm-import-dummy-template.iso"
HYPERVISOR_VERSION = "7.0"
NIC_IP_ADDRESS_LIST = "nicipaddresslist"
DATADISK_OFFERING_LIST = "datadiskofferinglist"
GiB = 1024 ** 3

# CloudStack's error codes: HTTP status and the exception's cserrorcode
PARAM_ERROR = 431
UNSUPPORTED_ACTION_ERROR = 432
INTERNAL_ERROR = 530
CS_INVALID_PARAMETER = 4350       # InvalidParameterValueException
CS_SERVER_API = 9999              # ServerApiException
CS_CLOUD_RUNTIME = 4250           # CloudRuntimeException


def now_iso(ts=None):
    ts = time.time() if ts is None else ts
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def make_id(kind, name):
    return str(uuid.uuid5(NAMESPACE, "%s:%s" % (kind, name)))


# --------------------------------------------------------------------------------------------
# request signatures, exactly as ApiServer.verifyRequest computes them
# --------------------------------------------------------------------------------------------
_JAVA_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


def java_urlencode(value):
    """``java.net.URLEncoder.encode(value, "UTF-8")``: space -> ``+``, ``~`` encoded."""
    out = []
    for ch in value:
        if ch in _JAVA_SAFE:
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.extend("%%%02X" % b for b in ch.encode("utf-8"))
    return "".join(out)


def signature_base(params):
    """The string CloudStack signs: every parameter except ``signature``, sorted by name."""
    parts = []
    for name in sorted(params):
        if name.lower() == "signature":
            continue
        parts.append("%s=%s" % (name, java_urlencode(params[name]).replace("+", "%20")))
    return "&".join(parts).lower()


def compute_signature(params, secret):
    digest = hmac.new(secret.encode("utf-8"), signature_base(params).encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_expires(text):
    """``yyyy-MM-dd'T'HH:mm:ssZ`` (SimpleDateFormat): ``+0000``-style zone."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        return None


def verify_request(params, credentials, now=None):
    """(ok, reason, api_key). params: name -> value as received; credentials: key -> secret."""
    lower = dict((k.lower(), v) for k, v in params.items())
    api_key = lower.get("apikey")
    signature = lower.get("signature")
    if not api_key or not signature:
        return False, "missing apiKey or signature", api_key
    secret = credentials.get(api_key)
    if secret is None:
        return False, "unknown apiKey", api_key
    if lower.get("signatureversion") == "3":
        expires = parse_expires(lower.get("expires"))
        if expires is None:
            return False, "missing or malformed expires", api_key
        current = now or datetime.datetime.now(datetime.timezone.utc)
        if expires < current:
            return False, "request expired", api_key
    expected = compute_signature(params, secret)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        return False, "signature mismatch", api_key
    return True, "", api_key


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
class ApiError(Exception):
    def __init__(self, status, text, cs_code=None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.cs_code = cs_code

    def body(self):
        b = {"uuidList": [], "errorcode": self.status, "errortext": self.text}
        if self.cs_code is not None:
            b["cserrorcode"] = self.cs_code
        return b


def invalid(text):
    """InvalidParameterValueException: HTTP 431, cserrorcode 4350."""
    return ApiError(PARAM_ERROR, text, CS_INVALID_PARAMETER)


def internal(text):
    """ServerApiException(INTERNAL_ERROR): HTTP 530, cserrorcode 9999."""
    return ApiError(INTERNAL_ERROR, text, CS_SERVER_API)


def runtime(text):
    """CloudRuntimeException: HTTP 530, cserrorcode 4250."""
    return ApiError(INTERNAL_ERROR, text, CS_CLOUD_RUNTIME)


def missing_param(command, name):
    return invalid("Unable to execute API command %s due to missing parameter %s" % (command.lower(), name))


def invalid_value(command, name, value):
    return invalid("Unable to execute API command %s due to invalid value. Invalid parameter %s value=%s due to "
                   "incorrect long value format, or entity does not exist or due to incorrect parameter annotation "
                   "for the field in api cmd class." % (command.lower(), name, value))


# --------------------------------------------------------------------------------------------
# CloudStack helpers (NetUtils and friends)
# --------------------------------------------------------------------------------------------
def verify_domain_name_label(host_name, is_host_name=True):
    """NetUtils.verifyDomainNameLabel."""
    if len(host_name) > 63 or len(host_name) < 1:
        return False
    if not re.match(r"^[a-z0-9-]*$", host_name.lower()):
        return False
    if host_name.startswith("-") or host_name.endswith("-"):
        return False
    if is_host_name and re.match(r"^[0-9-]", host_name):
        return False
    return True


def is_valid_ip4(text):
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def power_state_name(state):
    return state if state in ("PowerOn", "PowerOff", "PowerUnknown") else "PowerUnknown"


def parse_map_param(params, name):
    """``name[i].key=value`` -> [dict] ordered by i (outer name case-insensitive, inner key kept)."""
    rx = re.compile(r"^%s\[(\d+)\]\.(.+)$" % re.escape(name), re.IGNORECASE)
    entries = {}
    for k, v in params.items():
        m = rx.match(k)
        if m:
            entries.setdefault(int(m.group(1)), {})[m.group(2)] = v
    return [entries[i] for i in sorted(entries)]


def ci_get(d, key):
    for k, v in d.items():
        if k.lower() == key.lower():
            return v
    return None


def as_bool(text):
    return str(text).lower() == "true"


# --------------------------------------------------------------------------------------------
# unmanaged VM sources
# --------------------------------------------------------------------------------------------
class JsonSource(object):
    """Unmanaged VMs from a JSON file (list, or {"instances": [...]}), plus ones added at runtime."""

    kind = "json"

    def __init__(self, path=None):
        self.path = path
        self.added = []
        self._lock = threading.Lock()

    def instances(self):
        items = []
        if self.path:
            with open(self.path, "r", encoding="utf-8") as f:
                data = json.load(f)
            items = data.get("instances", []) if isinstance(data, dict) else data
        with self._lock:
            return [copy.deepcopy(i) for i in list(items) + self.added]

    def add(self, instances):
        with self._lock:
            self.added.extend(copy.deepcopy(instances))

    def describe(self):
        return {"kind": self.kind, "path": self.path, "added": len(self.added)}


class VcenterSource(object):
    """Unmanaged VMs read from a vCenter (the sandbox vcsim) with pyvmomi's PropertyCollector."""

    kind = "vcenter"
    CONTROLLERS = (("ParaVirtualSCSIController", "pvscsi"), ("VirtualLsiLogicSASController", "lsisas1068"),
                   ("VirtualLsiLogicController", "lsilogic"), ("VirtualBusLogicController", "buslogic"),
                   ("VirtualIDEController", "ide"), ("VirtualAHCIController", "sata"),
                   ("VirtualNVMEController", "nvme"))
    ADAPTERS = (("VirtualE1000e", "E1000E"), ("VirtualE1000", "E1000"), ("VirtualVmxnet3", "Vmxnet3"),
                ("VirtualVmxnet2", "Vmxnet2"), ("VirtualPCNet32", "PCNet32"), ("VirtualVmxnet", "Vmxnet"))

    def __init__(self, url, username, password, cache_seconds=2.0):
        parsed = urllib.parse.urlparse(url if "://" in url else "https://" + url)
        self.host = parsed.hostname
        self.port = parsed.port or 443
        self.username = username
        self.password = password
        self.cache_seconds = cache_seconds
        self._cache = (0.0, None)
        self._lock = threading.Lock()
        self._si = None

    def describe(self):
        return {"kind": self.kind, "host": self.host, "port": self.port}

    def _connect(self):
        from pyVim.connect import SmartConnect
        if self._si is None:
            self._si = SmartConnect(host=self.host, port=self.port, user=self.username, pwd=self.password,
                                    disableSslCertValidation=True)
        return self._si

    def _collect(self, si, vimtype, props):
        from pyVmomi import vmodl
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vimtype], True)
        try:
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view, skip=True,
                    selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                        name="view", path="view", skip=False, type=type(view))])],
                propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vimtype, pathSet=list(props))])
            pc = content.propertyCollector
            out = []
            result = pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=500))
            while result is not None:
                for obj in result.objects:
                    out.append((obj.obj, dict((p.name, p.val) for p in (obj.propSet or []))))
                if not result.token:
                    break
                result = pc.ContinueRetrievePropertiesEx(result.token)
            return out
        finally:
            view.Destroy()

    def instances(self):
        with self._lock:
            ts, cached = self._cache
            if cached is not None and time.monotonic() - ts < self.cache_seconds:
                return copy.deepcopy(cached)
            try:
                data = self._read()
            except Exception:
                self._si = None  # reconnect next time (session expired, vcsim restarted)
                data = self._read()
            self._cache = (time.monotonic(), data)
            return copy.deepcopy(data)

    def clusters(self):
        from pyVmomi import vim
        return sorted(p.get("name") for _, p in self._collect(self._connect(), vim.ClusterComputeResource, ["name"]))

    def _read(self):
        from pyVmomi import vim
        si = self._connect()
        clusters = dict((o._moId, p.get("name")) for o, p in self._collect(si, vim.ClusterComputeResource, ["name"]))
        hosts = {}
        std_vlans = {}
        for o, p in self._collect(si, vim.HostSystem, ["name", "parent", "config.network.portgroup"]):
            parent = p.get("parent")
            hosts[o._moId] = {"name": p.get("name"),
                              "cluster": clusters.get(parent._moId) if parent is not None else None}
            for pg in p.get("config.network.portgroup") or []:
                vlan = pg.spec.vlanId or 0
                std_vlans[pg.spec.name] = 0 if vlan >= 4095 else vlan
        pvlan_maps = {}
        for o, p in self._collect(si, vim.DistributedVirtualSwitch, ["config"]):
            entries = getattr(p.get("config"), "pvlanConfig", None) or []
            pvlan_maps[o._moId] = dict((e.secondaryVlanId, (e.primaryVlanId, e.pvlanType)) for e in entries)
        dvpgs = {}
        for o, p in self._collect(si, vim.dvs.DistributedVirtualPortgroup, ["name", "key", "config"]):
            cfg = p.get("config")
            vlan, pvlan, pvlan_type = 0, None, None
            spec = getattr(getattr(cfg, "defaultPortConfig", None), "vlan", None)
            if isinstance(spec, vim.dvs.VmwareDistributedVirtualSwitch.PvlanSpec):
                dvs = getattr(cfg, "distributedVirtualSwitch", None)
                primary, ptype = pvlan_maps.get(dvs._moId if dvs is not None else None, {}).get(
                    spec.pvlanId, (spec.pvlanId, "isolated"))
                vlan, pvlan, pvlan_type = primary, spec.pvlanId, ptype
            elif isinstance(spec, vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec):
                vlan = spec.vlanId or 0
            dvpgs[p.get("key")] = {"name": p.get("name"), "vlan": vlan, "pvlan": pvlan, "pvlantype": pvlan_type}
        datastores = {}
        for o, p in self._collect(si, vim.Datastore, ["name", "summary.type", "info"]):
            info = p.get("info")
            nas = getattr(info, "nas", None)
            datastores[o._moId] = {"name": p.get("name"), "type": p.get("summary.type"),
                                   "host": getattr(nas, "remoteHost", "") or "",
                                   "path": getattr(nas, "remotePath", "") or ""}
        props = ["name", "config.template", "config.guestId", "config.guestFullName", "config.hardware.numCPU",
                 "config.hardware.numCoresPerSocket", "config.hardware.memoryMB", "config.hardware.device",
                 "config.cpuAllocation.reservation", "runtime.powerState", "runtime.host", "runtime.maxCpuUsage",
                 "guest.toolsStatus", "guest.net", "parent"]
        out = []
        for o, p in self._collect(si, vim.VirtualMachine, props):
            if p.get("config.template"):
                continue
            host_ref = p.get("runtime.host")
            host = hosts.get(host_ref._moId) if host_ref is not None else None
            if not host or not host.get("cluster"):
                continue
            out.append(self._instance(o, p, host, std_vlans, dvpgs, datastores))
        return out

    def _kind(self, obj, table):
        for cls_name, name in table:
            if type(obj).__name__.endswith(cls_name):
                return name
        return type(obj).__name__

    def _instance(self, ref, p, host, std_vlans, dvpgs, datastores):
        power = {"poweredOn": "PowerOn", "poweredOff": "PowerOff"}.get(str(p.get("runtime.powerState")), "PowerUnknown")
        ncpu = p.get("config.hardware.numCPU") or 0
        speed = p.get("config.cpuAllocation.reservation") or 0
        if not speed and power == "PowerOn" and ncpu:
            speed = int((p.get("runtime.maxCpuUsage") or 0) / ncpu)
        devices = p.get("config.hardware.device") or []
        by_key = dict((d.key, d) for d in devices)
        vm_num = ref._moId.split("-")[-1]
        disks, nics = [], []
        ips_by_mac = {}
        if str(p.get("guest.toolsStatus")) == "toolsOk":
            for gn in p.get("guest.net") or []:
                ips_by_mac[(gn.macAddress or "").lower()] = [a for a in (gn.ipAddress or []) if is_valid_ip4(a)]
        for d in devices:
            cls = type(d).__name__
            if cls.endswith("VirtualDisk"):
                ctrl = by_key.get(d.controllerKey)
                backing = d.backing
                ds = datastores.get(backing.datastore._moId, {}) if getattr(backing, "datastore", None) else {}
                disks.append({
                    "id": "%s-%s" % (vm_num, d.key), "label": d.deviceInfo.label if d.deviceInfo else "",
                    "capacity": int(getattr(d, "capacityInBytes", 0) or (d.capacityInKB or 0) * 1024),
                    "controller": self._kind(ctrl, self.CONTROLLERS) if ctrl is not None else "",
                    "controllerunit": getattr(ctrl, "busNumber", 0) if ctrl is not None else 0,
                    "position": d.unitNumber or 0,
                    "imagepath": getattr(backing, "fileName", ""),
                    "datastorename": ds.get("name", ""), "datastoretype": ds.get("type", ""),
                    "datastorehost": ds.get("host", ""), "datastorepath": ds.get("path", "")})
            elif hasattr(d, "macAddress") and hasattr(d, "addressType"):
                backing = d.backing
                net_name, vlan, pvlan, pvlan_type = "", 0, None, None
                port = getattr(backing, "port", None)
                if port is not None and getattr(port, "portgroupKey", None):
                    pg = dvpgs.get(port.portgroupKey, {})
                    net_name, vlan, pvlan, pvlan_type = pg.get("name", ""), pg.get("vlan", 0), pg.get("pvlan"), pg.get("pvlantype")
                else:
                    net_name = getattr(backing, "deviceName", "") or ""
                    vlan = std_vlans.get(net_name, 0)
                nic = {"id": d.deviceInfo.label if d.deviceInfo else "", "macaddress": d.macAddress,
                       "networkname": net_name, "vlanid": vlan,
                       "pcislot": getattr(d.slotInfo, "pciSlotNumber", None) if d.slotInfo else None,
                       "adaptertype": self._kind(d, self.ADAPTERS),
                       "ipaddress": ips_by_mac.get((d.macAddress or "").lower(), [])}
                if pvlan:
                    nic["pvlanid"] = pvlan
                    nic["pvlantype"] = pvlan_type
                nics.append(nic)
        return {"cluster": host["cluster"], "host": host["name"], "name": p.get("name"),
                "osdisplayname": p.get("config.guestFullName") or "", "osid": p.get("config.guestId") or "",
                "memory": p.get("config.hardware.memoryMB") or 0, "powerstate": power, "cpunumber": ncpu,
                "cpucorespersocket": p.get("config.hardware.numCoresPerSocket") or 1, "cpuspeed": speed,
                "disk": disks, "nic": nics}


# --------------------------------------------------------------------------------------------
# the emulated cloud
# --------------------------------------------------------------------------------------------
class Cloud(object):
    def __init__(self, seed, source, credentials, job_seconds=1.0, auto_networks=False, auto_storage_pools=False,
                 vcenter_clusters=()):
        self.seed = seed
        self.source = source
        self.credentials = dict(credentials)
        self.default_job_seconds = job_seconds
        self.auto_networks = auto_networks
        self.auto_storage_pools = auto_storage_pools
        self.vcenter_clusters = list(vcenter_clusters)
        self.lock = threading.RLock()
        self.reset()

    # -- state -------------------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.faults = {"fail_next_import": None, "job_seconds": self.default_job_seconds,
                           "http_530_next": 0, "http_530_commands": []}
            self.requests = {}
            self.auth_failures = 0
            self.jobs = {}
            self.mac_counter = 0
            self._load_seed()

    def _load_seed(self):
        s = self.seed
        self.zones = []
        for z in s.get("zones", []):
            self.zones.append({"id": z.get("id") or make_id("zone", z["name"]), "name": z["name"],
                               "networktype": "Advanced", "allocationstate": "Enabled",
                               "securitygroupsenabled": False, "localstorageenabled": False})
        self.domains = []
        for d in s.get("domains", [{"path": "ROOT"}]):
            path = d["path"]
            parent = path.rsplit("/", 1)[0] if "/" in path else None
            self.domains.append({"id": d.get("id") or make_id("domain", path), "name": path.rsplit("/", 1)[-1],
                                 "path": path, "level": path.count("/"),
                                 "parentdomainid": make_id("domain", parent) if parent else None,
                                 "parentdomainname": parent.rsplit("/", 1)[-1] if parent else None,
                                 "haschild": any(x["path"].startswith(path + "/") for x in s.get("domains", []))})
        self.accounts = []
        for a in s.get("accounts", [{"name": "admin", "domain": "ROOT", "accounttype": 1}]):
            dom = self.domain_by_path(a["domain"])
            self.accounts.append({"id": a.get("id") or make_id("account", a["domain"] + "/" + a["name"]),
                                  "name": a["name"], "accounttype": a.get("accounttype", 0),
                                  "domainid": dom["id"], "domain": dom["name"], "domainpath": dom["path"],
                                  "state": "enabled"})
        self.projects = []
        for p in s.get("projects", []):
            dom = self.domain_by_path(p["domain"])
            self.projects.append({"id": p.get("id") or make_id("project", p["name"]), "name": p["name"],
                                  "displaytext": p["name"], "domainid": dom["id"], "domain": dom["name"],
                                  "state": "Active", "account": "PrjAcct-%s-1" % p["name"]})
        zone_names = [z["name"] for z in self.zones]
        cluster_defs = list(s.get("clusters", []))
        for name in self.vcenter_clusters:
            if not any(c["name"] == name for c in cluster_defs) and zone_names:
                cluster_defs.append({"name": name, "zone": zone_names[0], "hypervisor": "VMware"})
        self.clusters = []
        for c in cluster_defs:
            zone = self.zone_by_name(c["zone"])
            self.clusters.append({"id": c.get("id") or make_id("cluster", c["name"]), "name": c["name"],
                                  "zoneid": zone["id"], "zonename": zone["name"],
                                  "podid": make_id("pod", zone["name"]), "podname": "%s-pod1" % zone["name"],
                                  "hypervisortype": c.get("hypervisor", "VMware"), "clustertype": "ExternalManaged",
                                  "allocationstate": "Enabled", "managedstate": "Managed"})
        self.hosts = []
        self.networks = []
        for n in s.get("networks", []):
            self._add_network(n)
        self.service_offerings = []
        for o in s.get("service_offerings", []):
            so = {"id": o.get("id") or make_id("serviceoffering", o["name"]), "name": o["name"],
                  "displaytext": o.get("displaytext", o["name"]), "iscustomized": bool(o.get("iscustomized")),
                  "issystem": False, "offerha": False, "limitcpuuse": False, "isvolatile": False,
                  "storagetype": "shared", "created": now_iso(0)}
            for k in ("cpunumber", "cpuspeed", "memory", "hosttags", "tags"):
                if o.get(k) is not None:
                    so[k] = o[k]
            if o.get("details"):
                so["serviceofferingdetails"] = dict(o["details"])
            self.service_offerings.append(so)
        self.disk_offerings = []
        for o in s.get("disk_offerings", []):
            self.disk_offerings.append({"id": o.get("id") or make_id("diskoffering", o["name"]), "name": o["name"],
                                        "displaytext": o.get("displaytext", o["name"]),
                                        "disksize": o.get("disksize", 0), "iscustomized": bool(o.get("iscustomized")),
                                        "storagetype": "shared", "tags": o.get("tags")})
        self.os_types = []
        self.os_mappings = []
        categories = {}
        for o in s.get("os_types", []):
            cat = o.get("category", "Other")
            categories.setdefault(cat, make_id("oscategory", cat))
            ot = {"id": o.get("id") or make_id("ostype", o["description"]), "description": o["description"],
                  "name": o["description"], "oscategoryid": categories[cat], "oscategoryname": cat,
                  "isuserdefined": False}
            self.os_types.append(ot)
            for guest_id in o.get("vmware", []):
                self.os_mappings.append({"id": make_id("guestosmapping", "VMware:" + guest_id),
                                         "hypervisor": "VMware", "hypervisorversion": "default",
                                         "osdisplayname": ot["description"], "osnameforhypervisor": guest_id,
                                         "ostypeid": ot["id"], "isuserdefined": "false"})
        self.templates = []
        for t in s.get("templates", []):
            ot = self.os_type_by_description(t["ostype"])
            zone = self.zone_by_name(t["zone"])
            self.templates.append({"id": t.get("id") or make_id("template", t["name"]), "name": t["name"],
                                   "displaytext": t.get("displaytext", t["name"]), "ostypeid": ot["id"],
                                   "ostypename": ot["description"], "zoneid": zone["id"], "zonename": zone["name"],
                                   "hypervisor": "VMware", "format": "OVA", "isready": True, "ispublic": True,
                                   "isfeatured": False, "templatetype": "USER", "account": "admin",
                                   "domainid": self.domains[0]["id"], "domain": self.domains[0]["name"]})
        self.storage_pools = []
        for p in s.get("storage_pools", []):
            self._add_pool(p)
        self.vms = []
        for v in s.get("virtual_machines", []):
            self._seed_vm(v)
        self.system_vms, self.routers = [], []
        for v in s.get("system_vms", []):
            zone = self.zone_by_name(v["zone"])
            rec = {"id": make_id("systemvm", v["name"]), "name": v["name"], "zoneid": zone["id"],
                   "zonename": zone["name"], "state": "Running", "systemvmtype": v.get("systemvmtype", "consoleproxy")}
            (self.routers if v.get("systemvmtype") == "domainrouter" else self.system_vms).append(rec)
        if self.auto_networks or self.auto_storage_pools:
            self._auto_resources()

    def _add_network(self, n):
        zone = self.zone_by_name(n["zone"])
        net = {"id": n.get("id") or make_id("network", n["zone"] + "/" + n["name"]), "name": n["name"],
               "displaytext": n.get("displaytext", n["name"]), "zoneid": zone["id"], "zonename": zone["name"],
               "type": n.get("type", "L2"), "traffictype": n.get("traffictype", "Guest"),
               "issystem": bool(n.get("issystem")), "broadcasturi": n.get("broadcasturi"),
               "broadcastdomaintype": "Vlan", "state": "Implemented", "acltype": "Account" if n.get("account") else "Domain",
               "networkdomain": n.get("networkdomain"), "specifyipranges": n.get("type") == "Shared"}
        bu = n.get("broadcasturi") or ""
        if bu.startswith("vlan://"):
            net["vlan"] = bu[len("vlan://"):]
        for k in ("cidr", "gateway", "startip", "endip"):
            if n.get(k):
                net[k] = n[k]
        if n.get("cidr"):
            net["netmask"] = str(ipaddress.ip_network(n["cidr"]).netmask)
        if n.get("account"):
            dom = self.domain_by_path(n.get("domain", "ROOT"))
            net.update({"account": n["account"], "domainid": dom["id"], "domain": dom["name"]})
        else:
            dom = self.domains[0]
            net.update({"domainid": dom["id"], "domain": dom["name"]})
        self.networks.append(net)
        return net

    def _add_pool(self, p):
        zone = self.zone_by_name(p["zone"])
        pool = {"id": p.get("id") or make_id("storagepool", p["name"]), "name": p["name"],
                "zoneid": zone["id"], "zonename": zone["name"], "type": p.get("type", "VMFS"),
                "path": p.get("path", "/" + p["name"]), "ipaddress": p.get("ipaddress", ""),
                "state": "Up", "tags": p.get("tags"), "scope": "CLUSTER" if p.get("cluster") else "ZONE",
                "hypervisor": "VMware"}
        if p.get("cluster"):
            cl = self.cluster_by_name(p["cluster"])
            pool.update({"clusterid": cl["id"], "clustername": cl["name"], "podid": cl["podid"], "podname": cl["podname"]})
        self.storage_pools.append(pool)
        return pool

    def _auto_resources(self):
        try:
            instances = self.source.instances() if self.source else []
        except Exception as e:  # the vCenter is not reachable yet: no auto resources
            print("cloudstack emulator: cannot read unmanaged VMs for auto resources: %s" % e, file=sys.stderr)
            return
        for inst in instances:
            cl = self.find_cluster_by_name(inst.get("cluster"))
            if cl is None:
                continue
            zone = self.zone_by_id(cl["zoneid"])
            if self.auto_networks:
                for nic in inst.get("nic") or []:
                    uri = broadcast_uri_of_nic(nic)
                    if uri is None:
                        continue
                    if any(n["zoneid"] == zone["id"] and n.get("broadcasturi") == uri and n["traffictype"] == "Guest"
                           for n in self.networks):
                        continue
                    name = "l2-" + uri.replace("://", "")
                    self._add_network({"name": name, "zone": zone["name"], "type": "L2", "broadcasturi": uri})
            if self.auto_storage_pools:
                for disk in inst.get("disk") or []:
                    ds = disk.get("datastorename")
                    if ds and not any(p["name"] == ds for p in self.storage_pools):
                        self._add_pool({"name": ds, "zone": zone["name"], "cluster": cl["name"],
                                        "type": "NetworkFilesystem" if disk.get("datastorehost") else "VMFS",
                                        "path": disk.get("datastorepath") or "/%s" % ds,
                                        "ipaddress": disk.get("datastorehost") or "VMFS datastore"})

    def _seed_vm(self, v):
        zone = self.zone_by_name(v["zone"])
        cluster = self.cluster_by_name(v["cluster"])
        so = self.by_name(self.service_offerings, v["serviceoffering"])
        acct = self.account_by(v.get("account", "admin"), v.get("domain", "ROOT"))
        vm_id = v.get("id") or make_id("vm", v["name"])
        nics = []
        for i, n in enumerate(v.get("nics", [])):
            net = self.by_name([x for x in self.networks if x["zoneid"] == zone["id"]], n["network"])
            nics.append(self._nic_record(vm_id, i, net, n["macaddress"], n.get("ipaddress")))
        host = self.host_for(cluster, "%s_H0" % cluster["name"])
        self.vms.append(self._vm_record(vm_id, v["name"], v.get("displayname", v["name"]), v["instancename"],
                                        v.get("state", "Running"), zone, host, so, None, acct, None, nics,
                                        {"cpunumber": so.get("cpunumber", 1), "memory": so.get("memory", 512),
                                         "cpuspeed": so.get("cpuspeed", 1000)}, {}))

    # -- lookups -----------------------------------------------------------------------------
    @staticmethod
    def by_name(items, name):
        for i in items:
            if i["name"] == name:
                return i
        raise KeyError(name)

    @staticmethod
    def by_id(items, item_id):
        for i in items:
            if i["id"] == item_id:
                return i
        return None

    def zone_by_name(self, name):
        return self.by_name(self.zones, name)

    def zone_by_id(self, zid):
        return self.by_id(self.zones, zid)

    def cluster_by_name(self, name):
        return self.by_name(self.clusters, name)

    def find_cluster_by_name(self, name):
        for c in self.clusters:
            if c["name"] == name:
                return c
        return None

    def domain_by_path(self, path):
        for d in self.domains:
            if d["path"] == path:
                return d
        raise KeyError(path)

    def account_by(self, name, domain_path):
        for a in self.accounts:
            if a["name"] == name and a["domainpath"] == domain_path:
                return a
        raise KeyError(name)

    def os_type_by_description(self, description):
        for o in self.os_types:
            if o["description"] == description:
                return o
        raise KeyError(description)

    def host_for(self, cluster, host_name):
        """The CloudStack host record of a vSphere host of cluster (created on first sight)."""
        for h in self.hosts:
            if h["name"] == host_name and h["clusterid"] == cluster["id"]:
                return h
        h = {"id": make_id("host", cluster["name"] + "/" + host_name), "name": host_name, "type": "Routing",
             "clusterid": cluster["id"], "clustername": cluster["name"], "zoneid": cluster["zoneid"],
             "zonename": cluster["zonename"], "podid": cluster["podid"], "podname": cluster["podname"],
             "hypervisor": cluster["hypervisortype"], "hypervisorversion": HYPERVISOR_VERSION,
             "state": "Up", "resourcestate": "Enabled"}
        self.hosts.append(h)
        return h

    def next_mac(self):
        self.mac_counter += 1
        return "02:00:%02x:%02x:%02x:%02x" % (0x5a, (self.mac_counter >> 16) & 0xff, (self.mac_counter >> 8) & 0xff,
                                              self.mac_counter & 0xff)

    def _nic_record(self, vm_id, index, net, mac, ip):
        nic = {"id": make_id("nic", "%s/%d" % (vm_id, index)), "networkid": net["id"], "networkname": net["name"],
               "macaddress": mac, "isdefault": index == 0, "deviceid": str(index), "traffictype": "Guest",
               "type": net["type"], "broadcasturi": net.get("broadcasturi"), "isolationuri": net.get("broadcasturi")}
        if ip:
            nic.update({"ipaddress": ip, "gateway": net.get("gateway"), "netmask": net.get("netmask")})
        return nic

    def _vm_record(self, vm_id, host_name, display_name, instance_name, state, zone, host, so, template, owner,
                   project, nics, sizes, details):
        vm = {"id": vm_id, "name": host_name, "displayname": display_name, "instancename": instance_name,
              "state": state, "zoneid": zone["id"], "zonename": zone["name"], "hostid": host["id"],
              "hostname": host["name"], "clusterid": host["clusterid"], "clustername": host["clustername"],
              "hypervisor": "VMware", "serviceofferingid": so["id"], "serviceofferingname": so["name"],
              "cpunumber": int(sizes["cpunumber"]), "memory": int(sizes["memory"]),
              "cpuspeed": int(sizes.get("cpuspeed") or 0), "account": owner["name"], "domainid": owner["domainid"],
              "domain": owner["domain"], "created": now_iso(), "nic": nics, "details": dict(details),
              "haenable": False, "isdynamicallyscalable": False, "displayvm": True}
        if template is not None:
            vm.update({"templateid": template["id"], "templatename": template["name"],
                       "templatedisplaytext": template.get("displaytext", template["name"])})
        if project is not None:
            vm.update({"projectid": project["id"], "project": project["name"]})
        return vm

    def managed_names(self):
        """Instance names CloudStack filters out of listUnmanagedInstances (VMs, system VMs, routers)."""
        out = set(vm["instancename"] for vm in self.vms)
        out.update(v["name"] for v in self.system_vms + self.routers)
        return out

    def unmanaged(self, cluster, name=None):
        """Unmanaged VMs of cluster (CloudStack filters managed VMs by name/internal name)."""
        managed = self.managed_names()
        out = []
        for inst in self.source.instances() if self.source else []:
            if inst.get("cluster") != cluster["name"]:
                continue
            if inst.get("name") in managed:
                continue
            if name is not None and inst.get("name") != name:
                continue
            out.append(inst)
        return out

    def public_instance(self, inst, cluster):
        host = self.host_for(cluster, inst.get("host") or "%s_H0" % cluster["name"])
        r = {"clusterid": cluster["id"], "hostid": host["id"], "name": inst["name"],
             "osdisplayname": inst.get("osdisplayname"), "osid": inst.get("osid"), "memory": inst.get("memory"),
             "powerstate": power_state_name(inst.get("powerstate")), "cpunumber": inst.get("cpunumber"),
             "cpucorespersocket": inst.get("cpucorespersocket"), "cpuspeed": inst.get("cpuspeed"),
             "disk": [], "nic": []}
        for d in inst.get("disk") or []:
            r["disk"].append(dict((k, d.get(k)) for k in ("id", "label", "capacity", "controller", "controllerunit",
                                                          "imagepath", "position", "datastorename", "datastorehost",
                                                          "datastorepath", "datastoretype") if d.get(k) is not None))
        for n in inst.get("nic") or []:
            nic = dict((k, n.get(k)) for k in ("id", "macaddress", "networkname", "vlanid", "pvlanid", "pvlantype",
                                               "pcislot", "adaptertype") if n.get(k) is not None)
            if n.get("ipaddress"):
                nic["ipaddress"] = list(n["ipaddress"])
            r["nic"].append(nic)
        return r

    # -- faults and bookkeeping --------------------------------------------------------------
    def count(self, command):
        with self.lock:
            self.requests[command] = self.requests.get(command, 0) + 1

    def injected_530(self, command):
        with self.lock:
            n = self.faults.get("http_530_next") or 0
            only = self.faults.get("http_530_commands") or []
            if n > 0 and (not only or command in only):
                self.faults["http_530_next"] = n - 1
                return True
        return False

    def state(self):
        with self.lock:
            return {"source": self.source.describe() if self.source else None,
                    "vcenter_clusters": list(self.vcenter_clusters),
                    "faults": copy.deepcopy(self.faults), "requests": dict(self.requests),
                    "auth_failures": self.auth_failures,
                    "virtual_machines": copy.deepcopy(self.vms),
                    "jobs": dict((k, dict((kk, vv) for kk, vv in j.items() if kk != "params"))
                                 for k, j in self.jobs.items()),
                    "zones": copy.deepcopy(self.zones), "clusters": copy.deepcopy(self.clusters),
                    "networks": copy.deepcopy(self.networks),
                    "service_offerings": copy.deepcopy(self.service_offerings),
                    "disk_offerings": copy.deepcopy(self.disk_offerings),
                    "templates": copy.deepcopy(self.templates), "storage_pools": copy.deepcopy(self.storage_pools)}


def broadcast_uri_of_nic(nic):
    vlan = nic.get("vlanid") or 0
    if not vlan:
        return None
    if nic.get("pvlanid"):
        return "pvlan://%d-%s%d" % (vlan, (nic.get("pvlantype") or "")[:1].lower(), nic["pvlanid"])
    return "vlan://%d" % vlan


# --------------------------------------------------------------------------------------------
# API commands
# --------------------------------------------------------------------------------------------
def page(items, params, key):
    total = len(items)
    try:
        size = int(params.get("pagesize") or 0)
        number = int(params.get("page") or 1)
    except ValueError:
        raise invalid("Invalid page or pagesize")
    if size > 0:
        items = items[(number - 1) * size:number * size]
    if total == 0:
        return {}
    return {"count": total, key: items}


def filt(items, params, *names):
    """items whose fields equal the given params (and whose name contains the keyword)."""
    out = list(items)
    for n in names:
        v = params.get(n)
        if v is not None and v != "":
            out = [i for i in out if str(i.get(n)) == v]
    kw = params.get("keyword")
    if kw:
        out = [i for i in out if kw.lower() in str(i.get("name", i.get("description", ""))).lower()]
    return out


class Api(object):
    def __init__(self, cloud):
        self.cloud = cloud
        self.commands = {
            "listZones": self.list_zones, "listClusters": self.list_clusters, "listHosts": self.list_hosts,
            "listNetworks": self.list_networks, "listServiceOfferings": self.list_service_offerings,
            "listDiskOfferings": self.list_disk_offerings, "listTemplates": self.list_templates,
            "listOsTypes": self.list_os_types, "listGuestOsMapping": self.list_guest_os_mapping,
            "listStoragePools": self.list_storage_pools, "listDomains": self.list_domains,
            "listAccounts": self.list_accounts, "listProjects": self.list_projects,
            "listVirtualMachines": self.list_virtual_machines,
            "listSystemVms": self.list_system_vms, "listRouters": self.list_routers,
            "listUnmanagedInstances": self.list_unmanaged_instances,
            "importUnmanagedInstance": self.import_unmanaged_instance,
            "queryAsyncJobResult": self.query_async_job_result,
        }

    def dispatch(self, command, params):
        handler = self.commands.get(command)
        if handler is None:
            raise ApiError(UNSUPPORTED_ACTION_ERROR, "The given command:%s does not exist or it is not available for "
                           "user" % command, CS_CLOUD_RUNTIME)
        with self.cloud.lock:
            return handler(params)

    # -- simple lists ------------------------------------------------------------------------
    def list_zones(self, p):
        return page(filt(self.cloud.zones, p, "id", "name"), p, "zone")

    def list_clusters(self, p):
        return page(filt(self.cloud.clusters, p, "id", "name", "zoneid", "hypervisortype"), p, "cluster")

    def list_hosts(self, p):
        return page(filt(self.cloud.hosts, p, "id", "name", "clusterid", "zoneid", "type"), p, "host")

    def list_networks(self, p):
        items = [n for n in self.cloud.networks if n["issystem"] == as_bool(p.get("issystem", "false"))]
        return page(filt(items, p, "id", "zoneid", "type", "traffictype"), p, "network")

    def list_service_offerings(self, p):
        return page(filt(self.cloud.service_offerings, p, "id", "name"), p, "serviceoffering")

    def list_disk_offerings(self, p):
        return page(filt(self.cloud.disk_offerings, p, "id", "name"), p, "diskoffering")

    def list_templates(self, p):
        if not p.get("templatefilter"):
            raise missing_param("listTemplates", "templatefilter")
        return page(filt(self.cloud.templates, p, "id", "name", "zoneid", "hypervisor"), p, "template")

    def list_os_types(self, p):
        return page(filt(self.cloud.os_types, p, "id", "description", "oscategoryid"), p, "ostype")

    def list_guest_os_mapping(self, p):
        items = filt(self.cloud.os_mappings, p, "id", "hypervisor", "hypervisorversion", "ostypeid",
                     "osdisplayname", "osnameforhypervisor")
        return page(items, p, "guestosmapping")

    def list_storage_pools(self, p):
        return page(filt(self.cloud.storage_pools, p, "id", "name", "zoneid", "clusterid"), p, "storagepool")

    def list_domains(self, p):
        return page(filt(self.cloud.domains, p, "id", "name", "level"), p, "domain")

    def list_accounts(self, p):
        return page(filt(self.cloud.accounts, p, "id", "name", "domainid"), p, "account")

    def list_projects(self, p):
        return page(filt(self.cloud.projects, p, "id", "name", "domainid"), p, "project")

    def list_virtual_machines(self, p):
        items = filt(self.cloud.vms, p, "id", "name", "zoneid", "hostid", "clusterid", "state", "domainid",
                     "account", "projectid")
        if p.get("networkid"):
            items = [v for v in items if any(n["networkid"] == p["networkid"] for n in v["nic"])]
        return page(items, p, "virtualmachine")

    def list_system_vms(self, p):
        return page(filt(self.cloud.system_vms, p, "id", "name", "zoneid", "systemvmtype"), p, "systemvm")

    def list_routers(self, p):
        return page(filt(self.cloud.routers, p, "id", "name", "zoneid"), p, "router")

    def _cluster_param(self, command, p):
        cid = p.get("clusterid")
        if not cid:
            raise missing_param(command, "clusterid")
        cluster = self.cloud.by_id(self.cloud.clusters, cid)
        if cluster is None:
            raise invalid_value(command, "clusterid", cid)
        return cluster

    def list_unmanaged_instances(self, p):
        cluster = self._cluster_param("listUnmanagedInstances", p)
        if cluster["hypervisortype"] != "VMware":
            raise invalid("VM import is currently not supported for hypervisor [%s]." % cluster["hypervisortype"])
        items = self.cloud.unmanaged(cluster, p.get("name") or None)
        kw = (p.get("keyword") or "").lower()
        if kw:
            items = [i for i in items if kw in i["name"].lower()]
        return page([self.cloud.public_instance(i, cluster) for i in items], p, "unmanagedinstance")

    # -- async jobs --------------------------------------------------------------------------
    def query_async_job_result(self, p):
        jid = p.get("jobid")
        if not jid:
            raise missing_param("queryAsyncJobResult", "jobid")
        job = self.cloud.jobs.get(jid)
        if job is None:
            raise invalid_value("queryAsyncJobResult", "jobid", jid)
        out = dict((k, v) for k, v in job.items() if k not in ("params", "run_at"))
        return out

    def import_unmanaged_instance(self, p):
        """Synchronous part (parameter parsing, entity lookup, owner), then the async job."""
        command = "importUnmanagedInstance"
        cloud = self.cloud
        cluster = self._cluster_param(command, p)
        if not p.get("name"):
            raise missing_param(command, "name")
        so_id = p.get("serviceofferingid")
        if not so_id:
            raise missing_param(command, "serviceofferingid")
        if cloud.by_id(cloud.service_offerings, so_id) is None:
            raise invalid_value(command, "serviceofferingid", so_id)
        for name, items in (("templateid", cloud.templates), ("domainid", cloud.domains),
                            ("projectid", cloud.projects), ("diskofferingid", cloud.disk_offerings)):
            if p.get(name) and cloud.by_id(items, p[name]) is None:
                raise invalid_value(command, name, p[name])
        owner, project = self._owner(p)
        job_id = str(uuid.uuid4())
        delay = float(cloud.faults.get("job_seconds") or 0)
        job = {"jobid": job_id, "accountid": owner["id"], "userid": make_id("user", owner["name"]),
               "cmd": "org.apache.cloudstack.api.command.admin.vm.ImportUnmanagedInstanceCmd",
               "jobstatus": 0, "jobprocstatus": 0, "jobresultcode": 0, "jobinstancetype": "VirtualMachine",
               "created": now_iso(), "params": dict(p, _cluster=cluster["id"], _owner=owner["id"],
                                                    _project=project["id"] if project else None)}
        cloud.jobs[job_id] = job
        timer = threading.Timer(delay, self._finish_job, args=(job_id,))
        timer.daemon = True
        timer.start()
        return {"jobid": job_id}

    def _owner(self, p):
        cloud = self.cloud
        account, domain_id, project_id = p.get("account"), p.get("domainid"), p.get("projectid")
        if project_id:
            return cloud.accounts[0], cloud.by_id(cloud.projects, project_id)
        if account:
            domain = cloud.by_id(cloud.domains, domain_id) if domain_id else cloud.domains[0]
            for a in cloud.accounts:
                if a["name"] == account and a["domainid"] == domain["id"]:
                    return a, None
            raise invalid("Unable to find account %s in domain id=%s" % (account, domain["id"]))
        return cloud.accounts[0], None

    def _finish_job(self, job_id):
        cloud = self.cloud
        with cloud.lock:
            job = cloud.jobs.get(job_id)
            if job is None or job["jobstatus"] != 0:
                return
            try:
                fail = cloud.faults.get("fail_next_import")
                if fail:
                    cloud.faults["fail_next_import"] = None
                    raise internal(fail if isinstance(fail, str) else "Failed to import vm name: %s" % job["params"]["name"])
                vm = ImportJob(cloud, job["params"]).run()
                job.update({"jobstatus": 1, "jobresultcode": 0, "jobresulttype": "object",
                            "jobresult": {"virtualmachine": copy.deepcopy(vm)}, "jobinstanceid": vm["id"]})
            except ApiError as e:
                job.update({"jobstatus": 2, "jobresultcode": e.status, "jobresulttype": "object",
                            "jobresult": {"errorcode": e.status, "errortext": e.text}})
            except Exception as e:  # a bug here must still end the job
                traceback.print_exc()
                job.update({"jobstatus": 2, "jobresultcode": INTERNAL_ERROR, "jobresulttype": "object",
                            "jobresult": {"errorcode": INTERNAL_ERROR, "errortext": "emulator error: %s" % e}})
            job["completed"] = now_iso()


class ImportJob(object):
    """UnmanagedVMsManagerImpl.baseImportInstance + importVirtualMachineInternal, rule by rule."""

    def __init__(self, cloud, params):
        self.cloud = cloud
        self.p = params

    def run(self):
        cloud, p = self.cloud, self.p
        name = p.get("name") or ""
        # basicParametersCheckForImportInstance
        if not name:
            raise invalid("Instance name cannot be empty")
        if p.get("domainid") and not p.get("account"):
            raise invalid("domainid parameter must be specified with account parameter")
        cluster = cloud.by_id(cloud.clusters, p["_cluster"])
        if cluster["hypervisortype"] != "VMware":
            raise invalid("VM import is currently not supported for hypervisor [%s]." % cluster["hypervisortype"])
        zone = cloud.zone_by_id(cluster["zoneid"])
        owner = cloud.by_id(cloud.accounts, p["_owner"])
        project = cloud.by_id(cloud.projects, p["_project"]) if p.get("_project") else None
        template = cloud.by_id(cloud.templates, p["templateid"]) if p.get("templateid") else None
        so = cloud.by_id(cloud.service_offerings, p["serviceofferingid"])
        display_name = p.get("displayname") or name
        host_name = p.get("hostname") or ""
        if not host_name:
            host_name = name
            if not verify_domain_name_label(host_name, True):
                raise invalid("Please provide a valid hostname for the VM. VM name contains unsupported characters "
                              "that cannot be used as hostname.")
        if not verify_domain_name_label(host_name, True):
            raise invalid("Invalid VM hostname. VM hostname can contain ASCII letters 'a' through 'z', the digits '0' "
                          "through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't "
                          "start or end with \"-\" and can't start with digit")
        nic_networks = self.nic_network_map()
        nic_ips = self.nic_ip_map()
        disk_offerings = self.disk_offering_map()
        details_list = parse_map_param(p, "details")
        details = dict(details_list[0]) if details_list else {}
        forced = as_bool(p.get("forced", "false"))
        migrate_allowed = as_bool(p.get("migrateallowed", "false"))

        found = cloud.unmanaged(cluster, name)
        if not found:
            raise internal("Failed to find unmanaged vm with name: %s in cluster: %s" % (name, cluster["id"]))
        inst = found[0]
        host = cloud.host_for(cluster, inst.get("host") or "%s_H0" % cluster["name"])
        guest_os_id = self.guest_os(inst, template, host)
        return self.import_internal(inst, zone, cluster, host, template, so, display_name, host_name, owner, project,
                                    disk_offerings, nic_networks, nic_ips, details, migrate_allowed, forced,
                                    guest_os_id)

    # -- the Cmd getters: map parameters and their own validation ----------------------------
    def nic_network_map(self):
        out = {}
        for e in parse_map_param(self.p, "nicnetworklist"):
            nic, net_id = ci_get(e, "nic"), ci_get(e, "network")
            net = self.cloud.by_id(self.cloud.networks, net_id) if net_id else None
            if not nic or not net_id or net is None:
                raise invalid("Network ID: %s for NIC ID: %s is invalid" % (net_id, nic))
            out[nic] = net
        return out

    def nic_ip_map(self):
        out = {}
        for e in parse_map_param(self.p, NIC_IP_ADDRESS_LIST):
            nic, ip = ci_get(e, "nic"), ci_get(e, "ip4Address") or None
            if not nic:
                raise invalid("NIC ID: '%s' is invalid for IP address mapping" % nic)
            if not ip:
                raise invalid("Empty address for NIC ID: %s is invalid" % nic)
            if ip != "auto" and not is_valid_ip4(ip):
                raise invalid("IP address '%s' for NIC ID: %s is invalid" % (ip, nic))
            out[nic] = ip
        return out

    def disk_offering_map(self):
        out = {}
        for e in parse_map_param(self.p, DATADISK_OFFERING_LIST):
            disk, off_id = ci_get(e, "disk"), ci_get(e, "diskOffering")
            off = self.cloud.by_id(self.cloud.disk_offerings, off_id) if off_id else None
            if not disk or not off_id or off is None:
                raise invalid("Disk offering ID: %s for disk ID: %s is invalid" % (off_id, disk))
            out[disk] = off
        return out

    # -- guest OS ----------------------------------------------------------------------------
    def guest_os(self, inst, template, host):
        cloud = self.cloud
        if template is not None:
            return template["ostypeid"]
        os_name, os_id = inst.get("osdisplayname") or "", inst.get("osid") or ""
        guest_os = None
        if os_name:
            for o in cloud.os_types:
                if o["description"] == os_name:
                    guest_os = o
                    break
        mapping = None
        if guest_os is not None:
            mapping = next((m for m in cloud.os_mappings if m["ostypeid"] == guest_os["id"]), None)
        if mapping is None and os_id:
            mapping = next((m for m in cloud.os_mappings if m["osnameforhypervisor"] == os_id), None)
        if mapping is None:
            if guest_os is not None:
                raise internal("Unable to find hypervisor guest OS ID: %s details for unmanaged VM: %s for hypervisor: "
                               "%s version: %s. templateid parameter can be used to assign template for VM"
                               % (guest_os["id"], inst["name"], "VMware", host["hypervisorversion"]))
            raise internal("Unable to retrieve guest OS details for unmanaged VM: %s with OS name: %s, OS ID: %s for "
                           "hypervisor: %s version: %s. templateid parameter can be used to assign template for VM"
                           % (inst["name"], os_name, os_id, "VMware", host["hypervisorversion"]))
        return mapping["ostypeid"]

    # -- service offering --------------------------------------------------------------------
    def service_offering(self, inst, so, details):
        cpu = inst.get("cpunumber") or 0
        memory = inst.get("memory") or 0
        cpu_speed = inst.get("cpuspeed") or 0
        power = power_state_name(inst.get("powerstate"))
        if not cpu:
            raise internal("CPU cores [%s] is not valid for importing VM [%s]." % (cpu, inst["name"]))
        if not memory:
            raise internal("Memory [%s] is not valid for importing VM [%s]." % (memory, inst["name"]))
        if so["iscustomized"]:
            if "cpuSpeed" in details:
                try:
                    cpu_speed = int(details["cpuSpeed"])
                except ValueError:
                    pass
            params = {"cpuNumber": str(cpu), "memory": str(memory)}
            if so.get("cpuspeed") is None and cpu_speed > 0:
                params["cpuSpeed"] = str(cpu_speed)
            self.validate_custom(so, params)
            return {"cpunumber": int(params["cpuNumber"]) if so.get("cpunumber") is None else so["cpunumber"],
                    "memory": int(params["memory"]) if so.get("memory") is None else so["memory"],
                    "cpuspeed": so.get("cpuspeed") if so.get("cpuspeed") is not None else int(params.get("cpuSpeed", 0))}
        if cpu != so.get("cpunumber") and power != "PowerOff":
            raise internal("Service offering (%s) %d CPU cores do not match VM CPU cores %d and VM is not in powered off "
                           "state (Power state: %s)" % (so["id"], so.get("cpunumber"), cpu, power))
        if memory != so.get("memory") and power != "PowerOff":
            raise internal("Service offering (%s) %dMB memory does not match VM memory %dMB and VM is not in powered "
                           "off state (Power state: %s)" % (so["id"], so.get("memory"), memory, power))
        if cpu_speed > 0 and cpu_speed != so.get("cpuspeed") and power != "PowerOff":
            raise internal("Service offering (%s) %dMHz CPU speed does not match VM CPU speed %dMHz and VM is not in "
                           "powered off state (Power state: %s)" % (so["id"], so.get("cpuspeed"), cpu_speed, power))
        return {"cpunumber": so["cpunumber"], "memory": so["memory"], "cpuspeed": so.get("cpuspeed", 0)}

    @staticmethod
    def validate_custom(so, params):
        """UserVmManagerImpl.validateCustomParameters."""
        d = so.get("serviceofferingdetails") or {}
        big = 2147483647
        if so.get("cpunumber") is None:
            lo, hi = int(d.get("mincpunumber", 1)), int(d.get("maxcpunumber", big))
            cpu = int(params.get("cpuNumber", -1))
            if cpu < lo or cpu > hi:
                raise invalid("Invalid cpu cores value, specify a value between %d and %d" % (lo, hi))
        if so.get("cpuspeed") is None:
            speed = params.get("cpuSpeed")
            if speed is None or int(speed) <= 0:
                raise invalid("Invalid cpu speed value, specify a value between 1 and %d" % big)
        if so.get("memory") is None:
            lo, hi = int(d.get("minmemory", 32)), int(d.get("maxmemory", big))
            mem = int(params.get("memory", -1))
            if mem < lo or mem > hi:
                raise invalid("Invalid memory value, specify a value between %d and %d" % (lo, hi))

    # -- disks -------------------------------------------------------------------------------
    def storage_pool(self, disk, zone, cluster):
        pools = self.cloud.storage_pools
        ds_host, ds_path = disk.get("datastorehost") or "", disk.get("datastorepath") or ""
        ds_type, ds_name = disk.get("datastoretype"), disk.get("datastorename") or ""
        if ds_type:
            for pool in pools:
                if pool.get("ipaddress") == ds_host and pool.get("path") == ds_path and pool["zoneid"] == zone["id"] \
                        and pool.get("clusterid") in (None, cluster["id"]):
                    return pool
        candidates = [x for x in pools if x.get("clusterid") == cluster["id"]] + \
                     [x for x in pools if x["zoneid"] == zone["id"]]
        search = ds_path if ds_path.strip() else ds_name
        for pool in candidates:
            if search and search in (pool.get("path") or ""):
                return pool
        raise internal("Storage pool for disk %s(%s) with datastore: %s not found in zone ID: %s"
                       % (disk.get("label"), disk.get("id"), disk.get("datastorename"), zone["id"]))

    def check_disk(self, disk, offering, zone, cluster):
        if not disk.get("capacity"):
            raise internal("Size of disk(ID: %s) is found invalid during VM import" % disk.get("id"))
        if offering is not None and not offering["iscustomized"] and not offering["disksize"]:
            raise internal("Size of fixed disk offering(ID: %s) is found invalid during VM import" % offering["id"])
        if offering is not None and not offering["iscustomized"] and offering["disksize"] * GiB < disk["capacity"]:
            raise internal("Size of disk offering(ID: %s) %dGB is found less than the size of disk(ID: %s) %dGB during "
                           "VM import" % (offering["id"], offering["disksize"], disk["id"], disk["capacity"] // GiB))
        return self.storage_pool(disk, zone, cluster)

    def root_and_data_disks(self, disks, offering_map):
        ids = set(offering_map)
        if len(ids) != len(disks) - 1:
            raise internal("VM has total %d disks for which %d disk offering mappings provided. %d disks need a disk "
                           "offering for import" % (len(disks), len(ids), len(disks) - 1))
        without, root, data = [], None, []
        for d in disks:
            if d["id"] not in ids:
                without.append(d["id"])
                root = d
            else:
                data.append(d)
        if len(without) > 1 or root is None:
            raise internal("VM has total %d disks, disk offering mapping not provided for %d disks. Disk IDs that may "
                           "need a disk offering - %s" % (len(disks), len(without) - 1, ", ".join(without)))
        return root, data

    # -- NICs --------------------------------------------------------------------------------
    def nic_ip_addresses(self, nics, caller_map):
        out = {}
        for nic in nics:
            ip = caller_map.get(nic["id"])
            reported = nic.get("ipaddress") or []
            if ip == "auto" and reported:
                if len(reported) > 1:
                    raise internal("Multiple IP addresses (%s, %s) present for nic ID: %s. IP address cannot be "
                                   "assigned automatically, only single IP address auto-assigning supported"
                                   % (reported[0], reported[1], nic["id"]))
                if is_valid_ip4(reported[0]):
                    ip = reported[0]
            if ip is not None:
                out[nic["id"]] = ip
        return out

    def check_nic_network(self, nic, net, zone, auto_assign):
        if net["zoneid"] != zone["id"]:
            raise internal("Network(ID: %s) for nic(ID: %s) belongs to a different zone than VM to be imported"
                           % (net["id"], nic["id"]))
        if not auto_assign and net["type"] == "Isolated":
            return
        uri = net.get("broadcasturi")
        vlan, pvlan = nic.get("vlanid") or 0, nic.get("pvlanid")
        if vlan and pvlan is None and (not uri or uri != "vlan://%d" % vlan):
            raise internal("VLAN of network(ID: %s) %s is found different from the VLAN of nic(ID: %s) vlan://%d during "
                           "VM import" % (net["id"], uri, nic["id"], vlan))
        ptype = (nic.get("pvlantype") or "")[:1].lower()
        if vlan and pvlan and (not uri or uri != "pvlan://%d-%s%d" % (vlan, ptype, pvlan)):
            raise internal("PVLAN of network(ID: %s) %s is found different from the VLAN of nic(ID: %s) pvlan://%d-%s%d "
                           "during VM import" % (net["id"], uri, nic["id"], vlan, ptype, pvlan))

    def check_hostname_in_network(self, net, host_name):
        for vm in self.cloud.vms:
            if vm["name"] == host_name and any(n["networkid"] == net["id"] for n in vm["nic"]):
                raise invalid("VM with Name [%s] already exists in the network [%s] domain [%s]. Cannot import another "
                              "VM with the same name. Please try again with a different name."
                              % (host_name, network_str(net), net.get("networkdomain")))

    def used_ips(self, net):
        return set(n.get("ipaddress") for vm in self.cloud.vms for n in vm["nic"]
                   if n["networkid"] == net["id"] and n.get("ipaddress"))

    def available_ip(self, net, ip):
        if not net.get("startip"):
            return False
        a = ipaddress.ip_address(ip)
        return (ipaddress.ip_address(net["startip"]) <= a <= ipaddress.ip_address(net["endip"])
                and ip not in self.used_ips(net))

    def check_nic_ip(self, nic, net, ip):
        if net["type"] != "L2" and not ip:
            raise internal("NIC(ID: %s) needs a valid IP address for it to be associated with network(ID: %s). %s "
                           "parameter of API can be used for this" % (nic["id"], net["id"], NIC_IP_ADDRESS_LIST))
        if net["type"] != "L2" and ip and ip != "auto" and not self.available_ip(net, ip):
            raise internal("IP address %s for NIC(ID: %s) is not available in network(ID: %s)" % (ip, nic["id"], net["id"]))

    def nic_network_assignment(self, nics, caller_map, ip_map, zone, host_name):
        out = {}
        adapter = None
        for nic in nics:
            if not adapter:
                adapter = nic.get("adaptertype")
            elif adapter != nic.get("adaptertype"):
                raise internal("Multiple network adapter of different type (%s, %s) are not supported for import. Please "
                               "make sure that all network adapters are of the same type" % (adapter, nic.get("adaptertype")))
            net = None
            ip = ip_map.get(nic["id"])
            if nic["id"] not in caller_map:
                if nic.get("vlanid"):
                    for candidate in [n for n in self.cloud.networks if n["zoneid"] == zone["id"]]:
                        if candidate["traffictype"] != "Guest" or candidate["issystem"]:
                            continue
                        try:
                            self.check_nic_network(nic, candidate, zone, True)
                            net = candidate
                        except ApiError:
                            pass
                        if net is not None:
                            self.check_hostname_in_network(net, host_name)
                            self.check_nic_ip(nic, net, ip)
                            break
            else:
                net = caller_map[nic["id"]]
                self.check_nic_network(nic, net, zone, False)
                self.check_hostname_in_network(net, host_name)
                self.check_nic_ip(nic, net, ip)
            if net is None:
                raise internal("Suitable network for nic(ID: %s) not found during VM import" % nic["id"])
            out[nic["id"]] = net
        return out

    # -- importVirtualMachineInternal --------------------------------------------------------
    def import_internal(self, inst, zone, cluster, host, template, so, display_name, host_name, owner, project,
                        disk_offerings, nic_networks, nic_ips, details, migrate_allowed, forced, guest_os_id):
        cloud = self.cloud
        name = inst["name"]
        try:
            sizes = self.service_offering(inst, so, details)
        except ApiError as e:
            raise internal("Failed to import Unmanaged VM [%s] because the service offering [%s] is not compatible "
                           "due to [%s]." % (name, so["id"], e.text))
        all_details = dict(details)
        if so["iscustomized"]:
            all_details["cpuNumber"] = str(sizes["cpunumber"])
            all_details["memory"] = str(sizes["memory"])
            if so.get("cpuspeed") is None:
                all_details["cpuSpeed"] = str(sizes["cpuspeed"])
        disks = inst.get("disk") or []
        if not disks:
            raise internal("No attached disks found for the unmanaged VM: %s" % name)
        root, data = self.root_and_data_disks(disks, disk_offerings)
        if not root.get("controller"):
            raise internal("VM import failed. Unable to retrieve root disk details for VM: %s " % name)
        all_details["rootDiskController"] = root["controller"]
        self.check_disk(root, None, zone, cluster)
        controller = None
        for d in data:
            if d["id"] not in disk_offerings:
                raise internal("Disk offering for disk ID [%s] not found during VM import." % d["id"])
            if not controller:
                controller = d.get("controller")
            elif controller != d.get("controller"):
                raise internal("Multiple data disk controllers of different type (%s, %s) are not supported for import. "
                               "Please make sure that all data disk controllers are of the same type"
                               % (controller, d.get("controller")))
            self.check_disk(d, disk_offerings[d["id"]], zone, cluster)
        if data:
            all_details["dataDiskController"] = data[0].get("controller")
        nics = inst.get("nic") or []
        ip_map = self.nic_ip_addresses(nics, nic_ips)
        net_map = self.nic_network_assignment(nics, nic_networks, ip_map, zone, host_name)
        if nics:
            all_details["nicAdapter"] = nics[0].get("adaptertype")
        vm_id = str(uuid.uuid4())
        records = []
        try:
            for i, nic in enumerate(nics):
                net = net_map[nic["id"]]
                mac = nic.get("macaddress")
                for vm in cloud.vms:
                    if any(n["networkid"] == net["id"] and (n.get("macaddress") or "").lower() == (mac or "").lower()
                           for n in vm["nic"]):
                        if not forced:
                            raise runtime("NIC with MAC address %s exists on network %s and forced flag is disabled"
                                          % (mac, network_str(net)))
                        mac = cloud.next_mac()
                        break
                ip = None
                if net["type"] != "L2":
                    ip = ip_map.get(nic["id"])
                    if ip in (None, "auto"):
                        ip = self.next_free_ip(net)
                records.append(cloud._nic_record(vm_id, i, net, mac, ip))
        except ApiError as e:
            raise internal("Failed to import NICs while importing vm: %s. %s" % (name, e.text))
        state = "Running" if power_state_name(inst.get("powerstate")) == "PowerOn" else "Stopped"
        vm = cloud._vm_record(vm_id, host_name, display_name, name, state, zone, host, so, template, owner, project,
                              records, sizes, all_details)
        vm["ostypeid"] = guest_os_id
        vm["migrateallowed"] = migrate_allowed
        vm["volumes"] = [{"id": d["id"], "type": "ROOT" if d is root else "DATADISK",
                          "diskofferingid": disk_offerings[d["id"]]["id"] if d is not root else None,
                          "size": d["capacity"]} for d in disks]
        cloud.vms.append(vm)
        return vm

    def next_free_ip(self, net):
        used = self.used_ips(net)
        ip = ipaddress.ip_address(net["startip"])
        end = ipaddress.ip_address(net["endip"])
        while ip <= end:
            if str(ip) not in used:
                return str(ip)
            ip += 1
        raise runtime("Unable to acquire guest IP address for network %s" % network_str(net))


def network_str(net):
    """NetworkVO.toString() as CloudStack logs it."""
    return 'Network {"id": "%s", "name": "%s", "uuid": "%s"}' % (net["id"], net["name"], net["id"])


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------
def make_handler(cloud, api):
    class Handler(BaseHTTPRequestHandler):
        server_version = "CloudStackEmulator/1.0"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: requests are counted in /_sandbox/state
            pass

        def _send(self, status, body):
            raw = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def _handle(self, method):
            url = urllib.parse.urlsplit(self.path)
            raw = self._body()
            try:
                if url.path.startswith("/_sandbox/"):
                    status, body = self._sandbox(method, url.path, raw)
                    return self._send(status, body)
                if url.path.rstrip("/") != "/client/api":
                    return self._send(404, {"errorcode": 404, "errortext": "no such path: %s" % url.path})
                self._api(method, url, raw)
            except Exception as e:  # the emulator must answer, never hang a client
                traceback.print_exc()
                self._send(500, {"errorcode": 500, "errortext": "emulator error: %s" % e})

        def _api(self, method, url, raw):
            pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            ctype = self.headers.get("Content-Type") or ""
            if method == "POST" and raw and "application/x-www-form-urlencoded" in ctype:
                pairs += urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            params = {}
            for k, v in pairs:
                params.setdefault(k, v)
            command = ci_get(params, "command") or ""
            key = "%sresponse" % command.lower()
            ok, _reason, _api_key = verify_request(params, cloud.credentials)
            if not ok:
                with cloud.lock:
                    cloud.auth_failures += 1
                return self._send(401, {key: ApiError(401, AUTH_ERROR).body()})
            cloud.count(command)
            if cloud.injected_530(command):
                return self._send(INTERNAL_ERROR, {key: internal("Internal error executing command, please contact "
                                                                 "your system administrator").body()})
            # CloudStack matches parameter names case-insensitively
            lowered = dict((k if "[" in k else k.lower(), v) for k, v in params.items())
            try:
                result = api.dispatch(command, lowered)
            except ApiError as e:
                return self._send(e.status, {key: e.body()})
            self._send(200, {key: result})

        def _sandbox(self, method, path, raw):
            if path == "/_sandbox/state" and method == "GET":
                return 200, cloud.state()
            if path == "/_sandbox/reset" and method == "POST":
                cloud.reset()
                return 200, {"reset": True}
            if path == "/_sandbox/faults":
                if method == "POST":
                    data = json.loads(raw.decode("utf-8") or "{}")
                    unknown = sorted(set(data) - set(cloud.faults))
                    if unknown:
                        return 400, {"error": "unknown fault(s) %s; known: %s" % (unknown, sorted(cloud.faults))}
                    with cloud.lock:
                        cloud.faults.update(data)
                with cloud.lock:
                    return 200, dict(cloud.faults)
            if path == "/_sandbox/instances" and method == "POST":
                if not isinstance(cloud.source, JsonSource):
                    return 400, {"error": "the unmanaged VMs come from a vCenter; add VMs there"}
                data = json.loads(raw.decode("utf-8") or "[]")
                cloud.source.add(data if isinstance(data, list) else data.get("instances", []))
                return 200, {"added": len(data)}
            return 404, {"error": "no such sandbox endpoint: %s %s" % (method, path)}

    return Handler


def build(args):
    with open(args.seed, "r", encoding="utf-8") as f:
        seed = json.load(f)
    source, vc_clusters = None, []
    if args.vcenter_url:
        source = VcenterSource(args.vcenter_url, args.vcenter_username,
                               os.environ.get("CLOUDSTACK_EMULATOR_VCENTER_PASSWORD", ""))
        vc_clusters = source.clusters()
    else:
        source = JsonSource(args.instances)
    secret = os.environ.get("CLOUDSTACK_EMULATOR_SECRET_KEY") or args.secret_key
    if not secret:
        raise SystemExit("set CLOUDSTACK_EMULATOR_SECRET_KEY (or --secret-key)")
    api_key = args.api_key or os.environ.get("CLOUDSTACK_EMULATOR_API_KEY")
    if not api_key:
        raise SystemExit("set CLOUDSTACK_EMULATOR_API_KEY (or --api-key)")
    cloud = Cloud(seed, source, {api_key: secret}, job_seconds=args.job_seconds,
                  auto_networks=args.auto_networks, auto_storage_pools=args.auto_storage_pools,
                  vcenter_clusters=vc_clusters)
    return cloud


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--api-key", help="default $CLOUDSTACK_EMULATOR_API_KEY")
    p.add_argument("--secret-key", help="prefer $CLOUDSTACK_EMULATOR_SECRET_KEY (not visible in ps)")
    p.add_argument("--seed", default=DEFAULT_SEED)
    p.add_argument("--instances", help="JSON file of unmanaged VMs (when no vCenter)")
    p.add_argument("--vcenter-url", help="https://127.0.0.1:PORT/sdk of the vCenter holding the unmanaged VMs")
    p.add_argument("--vcenter-username")
    p.add_argument("--job-seconds", type=float, default=1.0)
    p.add_argument("--auto-networks", action="store_true")
    p.add_argument("--auto-storage-pools", action="store_true")
    args = p.parse_args(argv)
    cloud = build(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(cloud, Api(cloud)))
    server.daemon_threads = True
    source = json.dumps(cloud.source.describe())
    print("cloudstack emulator on http://%s:%s/client/api (source: %s)" % (args.host, args.port, source), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
