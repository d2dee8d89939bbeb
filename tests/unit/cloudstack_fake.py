"""CloudStack objects and a fake ``cs`` client for the unit tests of the CloudStack modules.

The objects have the shape of CloudStack's list* answers; FakeCs answers commands from them,
records every call and runs importUnmanagedInstance as a job that ends on the next query.
"""

import copy

GIB = 1024 ** 3

ZONE = {"id": "z-1", "name": "zone1"}
ZONE2 = {"id": "z-2", "name": "zone2"}
CLUSTER = {"id": "c-1", "name": "DC0_C0", "zoneid": "z-1", "zonename": "zone1", "hypervisortype": "VMware"}
CLUSTER2 = {"id": "c-2", "name": "DC0_C0", "zoneid": "z-2", "zonename": "zone2", "hypervisortype": "VMware"}
HOST = {"id": "h-1", "name": "DC0_C0_H0", "clusterid": "c-1", "hypervisorversion": "7.0", "type": "Routing"}


def _net(nid, name, ntype, uri, zone="z-1", **kw):
    n = {"id": nid, "name": name, "type": ntype, "broadcasturi": uri, "zoneid": zone, "traffictype": "Guest"}
    n.update(kw)
    return n


NETWORKS = [
    _net("n-100", "l2-vlan100", "L2", "vlan://100"),
    _net("n-200", "l2-vlan200", "L2", "vlan://200"),
    _net("n-301", "l2-pvlan300-i301", "L2", "pvlan://300-i301"),
    _net("n-302", "l2-pvlan300-c302", "L2", "pvlan://300-c302"),
    _net("n-ut", "l2-untagged", "L2", "vlan://untagged"),
    _net("n-400", "shared-vlan400", "Shared", "vlan://400", cidr="10.40.0.0/24",
         networkdomain="shared400.cloud.internal"),
    _net("n-500", "isolated-500", "Isolated", "vlan://500", cidr="10.50.0.0/24"),
    _net("n-pub", "public-vlan100", "Shared", "vlan://100", traffictype="Public"),
]
ZONE2_NETWORKS = [_net("n-z2", "zone2-vlan100", "L2", "vlan://100", zone="z-2")]

SERVICE_OFFERINGS = [
    {"id": "so-small", "name": "small-fixed", "cpunumber": 1, "cpuspeed": 1000, "memory": 1024, "iscustomized": False},
    {"id": "so-large", "name": "large-fixed", "cpunumber": 4, "cpuspeed": 2000, "memory": 8192, "iscustomized": False},
    {"id": "so-cc", "name": "custom-constrained", "cpuspeed": 1000, "iscustomized": True,
     "serviceofferingdetails": {"mincpunumber": "1", "maxcpunumber": "8", "minmemory": "512", "maxmemory": "16384"}},
    {"id": "so-cu", "name": "custom-unconstrained", "iscustomized": True},
]
DISK_OFFERINGS = [
    {"id": "do-10", "name": "disk-10g", "disksize": 10, "iscustomized": False},
    {"id": "do-100", "name": "disk-100g", "disksize": 100, "iscustomized": False},
    {"id": "do-c", "name": "disk-custom", "disksize": 0, "iscustomized": True},
]
OS_TYPES = [
    {"id": "os-centos7", "description": "CentOS 7"},
    {"id": "os-other32", "description": "Other (32-bit)"},
    {"id": "os-freebsd13", "description": "FreeBSD 13 (64-bit)"},
]
OS_MAPPINGS = [
    {"id": "m-1", "ostypeid": "os-centos7", "osnameforhypervisor": "centos7_64Guest", "hypervisor": "VMware"},
    {"id": "m-2", "ostypeid": "os-other32", "osnameforhypervisor": "otherGuest", "hypervisor": "VMware"},
]
TEMPLATES = [{"id": "t-centos", "name": "centos7-template", "zoneid": "z-1", "ostypeid": "os-centos7"}]
POOLS = [
    {"id": "p-nfs", "name": "nfs-primary", "zoneid": "z-1", "ipaddress": "10.0.0.10", "path": "/export/primary",
     "type": "NetworkFilesystem"},
    {"id": "p-local", "name": "LocalDS_0", "zoneid": "z-1", "clusterid": "c-1", "ipaddress": "VMFS datastore",
     "path": "/DC0/LocalDS_0", "type": "VMFS"},
]
DOMAINS = [{"id": "d-root", "name": "ROOT", "path": "ROOT"},
           {"id": "d-fin", "name": "finance", "path": "ROOT/finance"}]
ACCOUNTS = [{"id": "a-admin", "name": "admin", "domainid": "d-root"},
            {"id": "a-fin", "name": "finance-ops", "domainid": "d-fin"}]
PROJECTS = [{"id": "pr-web", "name": "web", "domainid": "d-root"}]
MANAGED = [
    {"id": "vm-legacy", "name": "legacy-app", "instancename": "legacy-app", "zoneid": "z-1", "state": "Running",
     "nic": [{"networkid": "n-100", "macaddress": "00:50:56:aa:00:01"}]},
    {"id": "vm-shared", "name": "shared-vm", "instancename": "i-2-7-VM", "zoneid": "z-1", "state": "Running",
     "nic": [{"networkid": "n-400", "macaddress": "02:00:4a:00:00:10", "ipaddress": "10.40.0.10"}]},
]


def disk(vm_id, n, gib, controller="lsilogic", unit=0, ds="nfs-primary"):
    nfs = ds == "nfs-primary"
    return {"id": "%s-%d" % (vm_id, 2000 + n), "label": "Hard disk %d" % (n + 1), "capacity": gib * GIB,
            "controller": controller, "controllerunit": unit, "position": n,
            "imagepath": "[%s] vm/vm_%d.vmdk" % (ds, n), "datastorename": ds,
            "datastoretype": "NFS" if nfs else "VMFS", "datastorehost": "10.0.0.10" if nfs else "",
            "datastorepath": "/export/primary" if nfs else ""}


def nic(n, vlan=100, mac=None, ips=(), adapter="Vmxnet3", net="pg", pvlan=None, pvlantype=None):
    d = {"id": "Network adapter %d" % (n + 1), "macaddress": mac or "00:50:56:01:00:%02x" % (n + 1),
         "networkname": "%s-%s" % (net, vlan), "vlanid": vlan, "adaptertype": adapter, "pcislot": 160 + n,
         "ipaddress": list(ips)}
    if pvlan:
        d.update({"pvlanid": pvlan, "pvlantype": pvlantype})
    return d


def instance(name="web01", vm_id="101", **kw):
    """A VM that imports cleanly with custom-constrained (one root disk, one NIC on VLAN 100)."""
    inst = {"name": name, "cluster": "DC0_C0", "host": "DC0_C0_H0", "clusterid": "c-1", "hostid": "h-1",
            "osdisplayname": "CentOS 7 (64-bit)", "osid": "centos7_64Guest", "memory": 2048,
            "powerstate": "PowerOn", "cpunumber": 2, "cpucorespersocket": 1, "cpuspeed": 0,
            "disk": [disk(vm_id, 0, 20)], "nic": [nic(0)]}
    inst.update(kw)
    return inst


def ctx(**kw):
    c = {"zone": ZONE, "cluster": CLUSTER, "networks": NETWORKS, "vms": MANAGED, "os_types": OS_TYPES,
         "os_mappings": OS_MAPPINGS, "storage_pools": POOLS, "hypervisor_version": "7.0"}
    c.update(kw)
    return c


def by_name(items, name):
    return next(i for i in items if i["name"] == name)


def request(name="web01", offering="custom-constrained", **kw):
    r = {"name": name, "host_name": None, "display_name": None, "account": None, "domain": None, "project": None,
         "service_offering": by_name(SERVICE_OFFERINGS, offering) if offering else None, "template": None,
         "nic_networks": {}, "nic_ip_addresses": {}, "data_disk_offerings": {}, "details": {}, "forced": False,
         "migrate_allowed": False}
    r.update(kw)
    return r


LIST_KEYS = {
    "listZones": ("zone", "zones"), "listClusters": ("cluster", "clusters"), "listHosts": ("host", "hosts"),
    "listNetworks": ("network", "networks"), "listServiceOfferings": ("serviceoffering", "serviceofferings"),
    "listDiskOfferings": ("diskoffering", "diskofferings"), "listTemplates": ("template", "templates"),
    "listOsTypes": ("ostype", "ostypes"), "listGuestOsMapping": ("guestosmapping", "mappings"),
    "listStoragePools": ("storagepool", "pools"), "listDomains": ("domain", "domains"),
    "listAccounts": ("account", "accounts"), "listProjects": ("project", "projects"),
    "listVirtualMachines": ("virtualmachine", "vms"), "listUnmanagedInstances": ("unmanagedinstance", "unmanaged"),
    "listSystemVms": ("systemvm", "systemvms"), "listRouters": ("router", "routers"),
}
FILTERS = ("id", "name", "zoneid", "clusterid")


class FakeCs(object):
    """Answers like cs.CloudStack(...) from in-memory lists; records calls."""

    def __init__(self, unmanaged=None, job_result=None, job_polls=1, errors=None):
        self.data = {"zones": [ZONE, ZONE2], "clusters": [CLUSTER, CLUSTER2], "hosts": [HOST],
                     "networks": NETWORKS + ZONE2_NETWORKS, "serviceofferings": SERVICE_OFFERINGS,
                     "diskofferings": DISK_OFFERINGS, "templates": TEMPLATES, "ostypes": OS_TYPES,
                     "mappings": OS_MAPPINGS, "pools": POOLS, "domains": DOMAINS, "accounts": ACCOUNTS,
                     "projects": PROJECTS, "vms": list(MANAGED),
                     "systemvms": [{"id": "sv-1", "name": "s-1-VM", "zoneid": "z-1"}],
                     "routers": [{"id": "r-4", "name": "r-4-VM", "zoneid": "z-1"}],
                     "unmanaged": copy.deepcopy(unmanaged if unmanaged is not None else [instance()])}
        self.calls = []
        self.jobs = {}
        self.job_result = job_result  # None: success; a dict: the failed jobresult
        self.job_polls = job_polls
        self.errors = list(errors or [])  # exceptions raised by the next calls, in order

    def __getattr__(self, command):
        if command.startswith("_"):
            raise AttributeError(command)

        def handler(**kw):
            return self._call(command, kw)
        return handler

    def _call(self, command, kw):
        self.calls.append((command, dict(kw)))
        if self.errors:
            raise self.errors.pop(0)
        if command in LIST_KEYS:
            key, store = LIST_KEYS[command]
            items = [i for i in self.data[store]
                     if all(kw.get(f) in (None, i.get(f)) for f in FILTERS if f in i or kw.get(f) is not None)]
            if kw.get("fetch_list"):
                return copy.deepcopy(items)
            return {"count": len(items), key: copy.deepcopy(items)} if items else {}
        if command == "importUnmanagedInstance":
            job_id = "job-%d" % (len(self.jobs) + 1)
            self.jobs[job_id] = {"params": kw, "polls": 0}
            return {"jobid": job_id}
        if command == "queryAsyncJobResult":
            job = self.jobs[kw["jobid"]]
            job["polls"] += 1
            if job["polls"] < self.job_polls:
                return {"jobid": kw["jobid"], "jobstatus": 0, "jobresultcode": 0}
            if self.job_result is not None:
                return {"jobid": kw["jobid"], "jobstatus": 2, "jobresultcode": 530, "jobresult": self.job_result}
            name = job["params"]["name"]
            self.data["unmanaged"] = [i for i in self.data["unmanaged"] if i["name"] != name]
            vm = {"id": "vm-%s" % name, "name": job["params"].get("hostname") or name, "instancename": name,
                  "zoneid": "z-1", "state": "Running", "nic": []}
            self.data["vms"].append(vm)
            return {"jobid": kw["jobid"], "jobstatus": 1, "jobresultcode": 0, "jobresult": {"virtualmachine": vm}}
        raise AssertionError("FakeCs: unexpected command %s" % command)

    def called(self, command):
        return [kw for c, kw in self.calls if c == command]
