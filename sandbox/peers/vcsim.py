"""vCenter: govmomi's vcsim, built from Debian packages, shaped for the vSphere modules.

``sandbox/vcsim/main.go`` configures ``simulator.VPX()`` from flags (datacenters,
clusters, hosts, VMs, templates, standard and distributed portgroups with VLAN,
PVLAN and trunk settings) and counts HTTP requests. It is built once, in GOPATH
mode, into ``.cache/vcsim/vcsim-<hash of main.go and the toolchain>`` (kept
across runs; ``make clean`` does not need to touch it).

After start, :meth:`VcsimPeer.after_start` reconfigures a few "showcase" VMs
through the vSphere API with pyVmomi (extra disks on LSI Logic and SATA
controllers, NICs on standard, PVLAN and trunk portgroups, power state, a CPU
reservation, CloudStack's ``cloud.vm.internal.name`` attribute), tags them through the
vSphere Automation REST API (categories Owner and Tier) and sets what VMware Tools would
report through the simulator's ``/_sandbox/guest`` switch.

Admin endpoints of the running simulator (not counted as requests):
``GET /_sandbox/stats`` -> ``{"requests": N, "methods": {"RetrievePropertiesEx": n, ...}}``,
``POST /_sandbox/stats/reset``, ``POST /_sandbox/guest`` (see :meth:`VcsimPeer.set_guest`).

Sizes come from constructor arguments, else ``VMIMPORT_VCSIM_<NAME>`` environment
variables (e.g. ``VMIMPORT_VCSIM_VMS_PER_HOST=200``), else the defaults below.
``sandbox/vcsim/build.sh`` builds the binary ahead and prints its path.
"""

import base64
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from sandbox.peers.base import PeerError, ProcessPeer, http_ok

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(HERE), "vcsim", "main.go")
GOCODE = "/usr/share/gocode"
GOVMOMI = os.path.join(GOCODE, "src", "github.com", "vmware", "govmomi")

USERNAME = "administrator@vsphere.local"

#: inventory shape; every value can be overridden per instance or by VMIMPORT_VCSIM_<KEY>
DEFAULTS = {
    "datacenters": 2,        # DC0, DC1
    "clusters": 1,           # per datacenter: DC0_C0
    "hosts": 2,              # per cluster: DC0_C0_H0, DC0_C0_H1
    "standalone": 1,         # per datacenter: DC0_H0
    "vms_per_host": 4,       # <host>_VM0..3; VM0 in vm/, VM1 in vm/Apps, VM2 in vm/Apps/Web, VM3 in vm/ (off)
    "templates": 2,          # per datacenter: DC0_TPL0, DC0_TPL1
    "std_portgroups": 2,     # DC0_VLAN100, DC0_VLAN101 on vSwitch1 (+ DC0_ALLVLANS, VLAN 4095)
    "dvs": 1,                # DC0_DVS0
    "dvs_portgroups": 2,     # DC0_DVPG0 (VLAN 200), DC0_DVPG1 (VLAN 201)
    "pvlan_portgroups": 3,   # DC0_PVLAN_isolated (300/301), _community (300/302), _promiscuous (300/300)
    "trunk_portgroups": 1,   # DC0_TRUNK0: 400-409, 4000
    "off_every": 4,          # every 4th VM of a host is powered off
}

#: what after_start does to the first VMs of DC0_C0 (by name order); tests rely on it
SHOWCASE = [
    {   # several disks on several controllers, several NICs on several kinds of portgroups
        "rename": "app-multi-01",
        "disks": [{"controller": "lsilogic", "gb": 8, "datastore": "NFS"},
                  {"controller": "lsilogic", "gb": 4, "datastore": "NFS"}],
        "nics": [{"type": "e1000e", "network": "DC0_VLAN101"},
                 {"type": "vmxnet3", "network": "DC0_PVLAN_isolated"},
                 {"type": "vmxnet3", "network": "DC0_TRUNK0"}],
        "power": "on",
        "guest": {"toolsStatus": "toolsOk", "toolsRunningStatus": "guestToolsRunning",
                  "ips": [["10.1.0.10"], ["10.1.1.10"], ["10.1.4.10", "fe80::10"], ["10.1.5.10"]]},
        "tags": [("Owner", "finance"), ("Tier", "gold")],
    },
    {   # a SATA data disk, powered off, a CPU reservation, a community PVLAN NIC
        "rename": "db-sata-01",
        "disks": [{"controller": "sata", "gb": 20, "datastore": "LocalDS_0"}],
        "nics": [{"type": "vmxnet3", "network": "DC0_PVLAN_community"}],
        "cpu_reservation": 1500,
        "power": "off",
        "tags": [("Owner", "finance")],
    },
    {   # VMware Tools OK, two IPv4 addresses on one NIC (CloudStack's "auto" cannot choose)
        "rename": "web-multiip-01",
        "power": "on",
        "guest": {"toolsStatus": "toolsOk", "toolsRunningStatus": "guestToolsRunning",
                  "ips": [["10.2.0.11", "10.2.0.12"]]},
        "tags": [("Owner", "web-team")],
    },
    {   # already managed by CloudStack: excluded by its internal name
        "rename": "managed-01",
        "nics": [{"type": "vmxnet3", "network": "DC0_PVLAN_promiscuous"}],
        "internal_name": "i-2-34-VM",
        "power": "on",
    },
    {   # tools not running: the IP vCenter still shows must not be reported
        "rename": "tools-stale-01",
        "power": "on",
        "guest": {"toolsStatus": "toolsNotRunning", "toolsRunningStatus": "guestToolsNotRunning",
                  "ips": [["10.3.0.5"]]},
    },
]

INTERNAL_NAME_FIELD = "cloud.vm.internal.name"


def cache_dir(repo_root):
    return os.environ.get("VMIMPORT_VCSIM_CACHE") or os.path.join(repo_root, ".cache", "vcsim")


def _go():
    go = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go") else None)
    if not go:
        raise PeerError("vcsim", "the Go compiler is missing: install the Debian package golang-go "
                                 "(apt-get install golang-go)")
    if not os.path.isdir(os.path.join(GOVMOMI, "simulator")):
        raise PeerError("vcsim", "govmomi is missing from %s: install the Debian package "
                                 "golang-github-vmware-govmomi-dev (apt-get install "
                                 "golang-github-vmware-govmomi-dev)" % GOCODE)
    return go


def _go_env(cache):
    env = dict(os.environ)
    env.update({
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOPATH": os.pathsep.join([os.path.join(cache, "gopath"), GOCODE]),
        "GOCACHE": os.path.join(cache, "gocache"),
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
    })
    return env


def build(repo_root, log=None):
    """Build sandbox/vcsim/main.go once; return the path of the binary.

    The binary is named by a hash of main.go, the Go version and govmomi's
    simulator sources' modification time, so an edit or a package upgrade
    rebuilds it, and concurrent callers wait for one build (a file lock).
    """
    go = _go()
    cache = cache_dir(repo_root)
    os.makedirs(cache, exist_ok=True)
    env = _go_env(cache)
    try:
        version = subprocess.run([go, "version"], env=env, capture_output=True, text=True, timeout=60,
                                 check=False).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise PeerError("vcsim", "cannot run %s: %s" % (go, e))
    digest = hashlib.sha256()
    with open(SOURCE, "rb") as f:
        digest.update(f.read())
    digest.update(version.encode())
    digest.update(str(os.stat(os.path.join(GOVMOMI, "simulator", "model.go")).st_mtime_ns).encode())
    binary = os.path.join(cache, "vcsim-%s" % digest.hexdigest()[:16])
    if os.access(binary, os.X_OK):
        return binary
    with open(os.path.join(cache, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(binary, os.X_OK):
            return binary
        if log:
            log("sandbox: building vcsim (%s) into %s" % (version.strip(), binary))
        tmp = binary + ".tmp"
        proc = subprocess.run([go, "build", "-o", tmp, os.path.basename(SOURCE)], cwd=os.path.dirname(SOURCE),
                              env=env, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            raise PeerError("vcsim", "go build of %s failed:\n%s" % (SOURCE, (proc.stderr or proc.stdout)[-3000:]))
        os.replace(tmp, binary)
        for old in os.listdir(cache):  # binaries of older main.go versions
            if old.startswith("vcsim-") and os.path.join(cache, old) != binary:
                os.unlink(os.path.join(cache, old))
    return binary


def _unverified():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class VcsimPeer(ProcessPeer):
    """vCenter simulator (govmomi vcsim): standard/distributed/PVLAN/trunk networks, templates, request counter."""

    name = "vcsim"
    start_timeout = 180.0

    def __init__(self, ctx, name=None, showcase=True, password=None, **sizes):
        super().__init__(ctx)
        if name:
            self.name = name
        unknown = set(sizes) - set(DEFAULTS)
        if unknown:
            raise ValueError("unknown vcsim size(s): %s" % ", ".join(sorted(unknown)))
        self.sizes = {}
        for key, default in DEFAULTS.items():
            value = sizes.get(key)
            if value is None:
                value = os.environ.get("VMIMPORT_VCSIM_%s" % key.upper(), default)
            self.sizes[key] = int(value)
        self.showcase = showcase
        self.username = USERNAME
        self.password = password or "Vc-" + secrets.token_urlsafe(12)
        self.binary = None

    # sizes ---------------------------------------------------------------
    @property
    def host_count(self):
        s = self.sizes
        return s["datacenters"] * (s["clusters"] * s["hosts"] + s["standalone"])

    @property
    def vm_count(self):
        """VMs (templates excluded)."""
        return self.host_count * self.sizes["vms_per_host"]

    # hooks ---------------------------------------------------------------
    def prepare(self):
        self.binary = build(self.ctx.repo_root, log=print)

    def command(self):
        s = self.sizes
        return [self.binary, "-l", "127.0.0.1:%s" % self.port, "-username", self.username,
                "-dc", str(s["datacenters"]), "-cluster", str(s["clusters"]), "-host", str(s["hosts"]),
                "-standalone-host", str(s["standalone"]), "-vm", str(s["vms_per_host"]),
                "-template", str(s["templates"]), "-std-pg", str(s["std_portgroups"]),
                "-dvs", str(s["dvs"]), "-pg", str(s["dvs_portgroups"]),
                "-pvlan-pg", str(s["pvlan_portgroups"]), "-trunk-pg", str(s["trunk_portgroups"]),
                "-off-every", str(s["off_every"])]

    @property
    def tmpdir(self):
        """Where the simulator keeps its datastores (removed when the peer stops)."""
        return os.path.join(self.ctx.workdir(self.name), "tmp")

    def env(self):
        os.makedirs(self.tmpdir, exist_ok=True)
        # the password stays out of the process list
        return {"VMIMPORT_VCSIM_PASSWORD": self.password, "TMPDIR": self.tmpdir}

    def stop(self):
        super().stop()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    @property
    def url(self):
        return "https://127.0.0.1:%s" % self.port

    def ready(self):
        return http_ok(self.url + "/_sandbox/stats")

    def after_start(self):
        if self.showcase:
            self.setup_showcase()
        self.reset_stats()

    def inventory(self):
        return {
            "vcenter_hostname": "127.0.0.1",
            "vcenter_port": self.port,
            "vcenter_username": self.username,
            "vcenter_password": self.password,
            "vcenter_validate_certs": False,
            "vcenter_datacenter": "DC0",
            "vcenter_cluster": "DC0_C0",
        }

    # admin endpoints -----------------------------------------------------
    def _admin(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=_unverified()) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            raise PeerError(self.name, "%s %s: HTTP %s %s" % (method, path, e.code, e.read()[:500]))

    def stats(self):
        """{"requests": N, "methods": {name: count}} since the last reset."""
        return self._admin("GET", "/_sandbox/stats")

    def reset_stats(self):
        """Zero the counter; returns the counts before the reset."""
        return self._admin("POST", "/_sandbox/stats/reset", {})

    def set_guest(self, vm, tools_status=None, tools_running_status=None, ips=None, host_name=None):
        """What VMware Tools reports for vm: status, and IPs per NIC (a list of lists, device order)."""
        payload = {"vm": vm}
        if tools_status:
            payload["toolsStatus"] = tools_status
        if tools_running_status:
            payload["toolsRunningStatus"] = tools_running_status
        if ips is not None:
            payload["ips"] = ips
        if host_name:
            payload["hostName"] = host_name
        return self._admin("POST", "/_sandbox/guest", payload)

    # vSphere Automation REST API (tags) ----------------------------------------
    def rest(self, method, path, payload=None, session=None):
        """One call to vcsim's /rest API; with session=None, logs in (basic auth) and returns the session id."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if session:
            headers["vmware-api-session-id"] = session
        else:
            token = base64.b64encode(("%s:%s" % (self.username, self.password)).encode()).decode()
            headers["Authorization"] = "Basic " + token
        req = urllib.request.Request(self.url + path, method=method, headers=headers,
                                     data=json.dumps(payload).encode() if payload is not None else None)
        try:
            with urllib.request.urlopen(req, timeout=30, context=_unverified()) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            raise PeerError(self.name, "%s %s: HTTP %s %s" % (method, path, e.code, e.read()[:500]))
        return json.loads(body)["value"] if body else None

    def tag(self, assignments):
        """assignments: [(vm moid, category, tag)]; creates the categories and tags as needed."""
        session = self.rest("POST", "/rest/com/vmware/cis/session")
        try:
            categories, tags = {}, {}
            for moid, category, tag in assignments:
                if category not in categories:
                    categories[category] = self.rest("POST", "/rest/com/vmware/cis/tagging/category", {"create_spec": {
                        "name": category, "description": "sandbox", "cardinality": "MULTIPLE",
                        "associable_types": ["VirtualMachine"]}}, session)
                if (category, tag) not in tags:
                    tags[(category, tag)] = self.rest("POST", "/rest/com/vmware/cis/tagging/tag", {"create_spec": {
                        "name": tag, "description": "sandbox", "category_id": categories[category]}}, session)
                self.rest("POST", "/rest/com/vmware/cis/tagging/tag-association/id:%s?~action=attach"
                          % tags[(category, tag)], {"object_id": {"id": moid, "type": "VirtualMachine"}}, session)
        finally:
            self.rest("DELETE", "/rest/com/vmware/cis/session", session=session)

    # pyVmomi -------------------------------------------------------------
    def connect(self):
        from pyVim.connect import SmartConnect
        return SmartConnect(host="127.0.0.1", port=self.port, user=self.username, pwd=self.password,
                            sslContext=_unverified())

    def setup_showcase(self):
        """Reconfigure the first VMs of DC0_C0 as SHOWCASE says, through the vSphere API."""
        from pyVim.connect import Disconnect
        si = self.connect()
        try:
            _Showcase(si, self).apply()
        finally:
            Disconnect(si)


class _Showcase(object):
    """The after_start reconfiguration, with pyVmomi only (as an operator would)."""

    def __init__(self, si, peer):
        from pyVmomi import vim, vmodl
        self.vim, self.vmodl = vim, vmodl
        self.si = si
        self.peer = peer
        self.content = si.RetrieveContent()

    def _objects(self, kind, props):
        vim, vmodl = self.vim, self.vmodl
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder, [kind], True)
        try:
            spec = vmodl.query.PropertyCollector.FilterSpec(
                objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
                    obj=view, skip=True, selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                        name="view", path="view", skip=False, type=vim.view.ContainerView)])],
                propSet=[vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=props)])
            out = {}
            for oc in self.content.propertyCollector.RetrieveContents([spec]):
                out[oc.obj] = dict((p.name, p.val) for p in oc.propSet)
            return out
        finally:
            view.DestroyView()

    def _wait(self, task, what):
        vim = self.vim
        deadline = time.monotonic() + 60
        while task.info.state in (vim.TaskInfo.State.queued, vim.TaskInfo.State.running):
            if time.monotonic() > deadline:
                raise PeerError(self.peer.name, "%s: task still running after 60s" % what)
            time.sleep(0.05)
        if task.info.state != vim.TaskInfo.State.success:
            raise PeerError(self.peer.name, "%s failed: %s" % (what, task.info.error))

    def apply(self):
        vim = self.vim
        vms = self._objects(vim.VirtualMachine, ["name", "config.template", "runtime.host", "runtime.powerState"])
        hosts = self._objects(vim.HostSystem, ["name", "parent"])
        clusters = self._objects(vim.ClusterComputeResource, ["name"])
        c0 = [ref for ref, p in clusters.items() if p["name"] == "DC0_C0"]
        if not c0:
            return
        c0_hosts = set(ref for ref, p in hosts.items() if p["parent"] == c0[0])
        candidates = sorted((p["name"], ref) for ref, p in vms.items()
                            if not p.get("config.template") and p.get("runtime.host") in c0_hosts)
        networks = dict((p["name"], ref) for ref, p in self._objects(vim.Network, ["name"]).items())
        datastores = dict((p["name"], ref) for ref, p in self._objects(vim.Datastore, ["name"]).items())
        nfs = [n for n in datastores if n.startswith("DC0_NFS")]
        dvs_uuid = dict((ref, p["uuid"]) for ref, p in
                        self._objects(vim.DistributedVirtualSwitch, ["uuid"]).items())
        internal_key = None
        tag_assignments = []
        for spec, (name, vm) in zip(SHOWCASE, candidates):
            if spec.get("internal_name") and internal_key is None:
                cfm = self.content.customFieldsManager
                internal_key = cfm.AddCustomFieldDef(name=INTERNAL_NAME_FIELD, moType=vim.VirtualMachine).key
            self._reconfigure(vm, name, spec, networks, datastores, nfs[0] if nfs else "LocalDS_0", dvs_uuid)
            state = vms[vm]["runtime.powerState"]
            if spec.get("power") == "off" and state == vim.VirtualMachinePowerState.poweredOn:
                self._wait(vm.PowerOffVM_Task(), "power off %s" % name)
            elif spec.get("power") == "on" and state == vim.VirtualMachinePowerState.poweredOff:
                self._wait(vm.PowerOnVM_Task(), "power on %s" % name)
            if spec.get("internal_name"):
                self.content.customFieldsManager.SetField(entity=vm, key=internal_key, value=spec["internal_name"])
            new_name = spec.get("rename") or name
            if spec.get("rename"):
                self._wait(vm.Rename_Task(newName=new_name), "rename %s" % name)
            guest = spec.get("guest")
            if guest:
                self.peer.set_guest(new_name, tools_status=guest.get("toolsStatus"),
                                    tools_running_status=guest.get("toolsRunningStatus"), ips=guest.get("ips"))
            tag_assignments.extend((vm._moId, category, tag) for category, tag in spec.get("tags", []))
        if tag_assignments:
            self.peer.tag(tag_assignments)

    def _reconfigure(self, vm, name, spec, networks, datastores, nfs, dvs_uuid):
        vim = self.vim
        Spec = vim.vm.device.VirtualDeviceSpec
        changes = []
        controllers = {}
        next_key = {"scsi_ctl": 1001, "sata_ctl": 15000, "disk": {}, "nic": 4001}
        units = {}
        for disk in spec.get("disks", []):
            kind = disk["controller"]
            if kind not in controllers:
                if kind == "sata":
                    ctl = vim.vm.device.VirtualAHCIController(key=next_key["sata_ctl"], busNumber=0, controllerKey=100)
                    first_disk_key = 16000
                else:
                    cls = {"lsilogic": vim.vm.device.VirtualLsiLogicController,
                           "lsisas": vim.vm.device.VirtualLsiLogicSASController,
                           "pvscsi": vim.vm.device.ParaVirtualSCSIController}[kind]
                    ctl = cls(key=next_key["scsi_ctl"], busNumber=1, controllerKey=100,
                              sharedBus=vim.vm.device.VirtualSCSIController.Sharing.noSharing)
                    first_disk_key = 2016
                    next_key["scsi_ctl"] += 1
                changes.append(Spec(operation=Spec.Operation.add, device=ctl))
                controllers[kind] = (ctl, first_disk_key)
                units[kind] = 0
            ctl, first_disk_key = controllers[kind]
            ds_name = nfs if disk["datastore"] == "NFS" else disk["datastore"]
            unit = units[kind]
            units[kind] += 1
            backing = vim.vm.device.VirtualDisk.FlatVer2BackingInfo(
                fileName=("[%s] %s/%s_%s%d.vmdk" % (ds_name, name, name, kind, unit) if ds_name == "LocalDS_0"
                          else "[%s] %s_%s%d.vmdk" % (ds_name, name, kind, unit)),
                datastore=datastores[ds_name], diskMode="persistent", thinProvisioned=True)
            dev = vim.vm.device.VirtualDisk(key=first_disk_key + unit, controllerKey=ctl.key, unitNumber=unit,
                                            capacityInKB=disk["gb"] * 1024 * 1024, backing=backing)
            changes.append(Spec(operation=Spec.Operation.add, fileOperation=Spec.FileOperation.create, device=dev))
        for nic in spec.get("nics", []):
            net = networks[nic["network"]]
            if isinstance(net, vim.dvs.DistributedVirtualPortgroup):
                backing = vim.vm.device.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                    port=vim.dvs.PortConnection(portgroupKey=net.key, switchUuid=dvs_uuid[net.config.distributedVirtualSwitch]))
            else:
                backing = vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=nic["network"], network=net)
            cls = {"vmxnet3": vim.vm.device.VirtualVmxnet3, "e1000e": vim.vm.device.VirtualE1000e,
                   "e1000": vim.vm.device.VirtualE1000}[nic["type"]]
            dev = cls(key=next_key["nic"], backing=backing, addressType="generated",
                      connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, connected=True))
            next_key["nic"] += 1
            changes.append(Spec(operation=Spec.Operation.add, device=dev))
        config = vim.vm.ConfigSpec(deviceChange=changes)
        if spec.get("cpu_reservation"):
            config.cpuAllocation = vim.ResourceAllocationInfo(reservation=spec["cpu_reservation"])
        if changes or spec.get("cpu_reservation"):
            self._wait(vm.ReconfigVM_Task(spec=config), "reconfigure %s" % name)


def main(argv=None):
    repo = os.path.dirname(os.path.dirname(HERE))
    try:
        print(build(repo, log=lambda m: print(m, file=sys.stderr)))
    except PeerError as e:
        print("ERROR: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
