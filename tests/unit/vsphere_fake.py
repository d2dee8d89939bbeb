"""Fake vSphere property sets (already plain, as vsphere.to_plain makes them) for the vSphere unit tests.

The inventory: datacenters DC0 and DC1, each with a cluster C0 (hosts esx-a, esx-b) and a
standalone host; folders vm/Apps/Web; a standard portgroup VLAN100 whose VLAN is 100 on esx-a
and 110 on esx-b (misconfigured on purpose); a distributed switch DVS0 with a VLAN portgroup,
PVLAN portgroups (primary 300: isolated 301, community 302, promiscuous 300), a trunk, and its
uplink portgroup; a VMFS and an NFS datastore.
"""

import copy


def host_pg(name, vlan, vswitch="vSwitch1"):
    return {"_type": "HostPortGroup", "key": "key-vim.host.PortGroup-" + name,
            "spec": {"_type": "HostPortGroupSpec", "name": name, "vlanId": vlan, "vswitchName": vswitch}}


def dvpg(moid, name, vlan, hosts, dvs="dvs-1"):
    return ("DistributedVirtualPortgroup", moid, {
        "name": name, "parent": "group-n1", "host": hosts, "key": moid,
        "config.distributedVirtualSwitch": dvs,
        "config.defaultPortConfig": {"_type": "VMwareDVSPortSetting", "vlan": vlan},
    })


def vlan_spec(vlan):
    return {"_type": "VmwareDistributedVirtualSwitchVlanIdSpec", "vlanId": vlan}


def pvlan_spec(secondary):
    return {"_type": "VmwareDistributedVirtualSwitchPvlanSpec", "pvlanId": secondary}


def trunk_spec(*ranges):
    return {"_type": "VmwareDistributedVirtualSwitchTrunkVlanSpec",
            "vlanId": [{"_type": "NumericRange", "start": a, "end": b} for a, b in ranges]}


DVS_UUID = "50 2a 6e 1c 3f 00 00 01-8b 9d 00 00 00 00 00 01"
HOSTS_DC0 = ["host-1", "host-2", "host-3"]


def inventory_objects():
    objs = [
        ("Folder", "group-d1", {"name": "Datacenters"}),
        ("Datacenter", "datacenter-1", {"name": "DC0", "parent": "group-d1", "vmFolder": "group-v1",
                                        "hostFolder": "group-h1", "networkFolder": "group-n1"}),
        ("Folder", "group-v1", {"name": "vm", "parent": "datacenter-1"}),
        ("Folder", "group-h1", {"name": "host", "parent": "datacenter-1"}),
        ("Folder", "group-n1", {"name": "network", "parent": "datacenter-1"}),
        ("Folder", "group-v2", {"name": "Apps", "parent": "group-v1"}),
        ("Folder", "group-v3", {"name": "Web", "parent": "group-v2"}),
        ("ClusterComputeResource", "domain-c1", {"name": "C0", "parent": "group-h1"}),
        ("ComputeResource", "domain-s1", {"name": "esx-s", "parent": "group-h1"}),
        ("HostSystem", "host-1", {"name": "esx-a", "parent": "domain-c1", "network": ["network-1", "network-2"],
                                  "config.network.portgroup": [host_pg("VLAN100", 100), host_pg("VM Network", 0, "vSwitch0")]}),
        ("HostSystem", "host-2", {"name": "esx-b", "parent": "domain-c1", "network": ["network-1", "network-2"],
                                  "config.network.portgroup": [host_pg("VLAN100", 110), host_pg("VM Network", 0, "vSwitch0")]}),
        ("HostSystem", "host-3", {"name": "esx-s", "parent": "domain-s1", "network": ["network-2"],
                                  "config.network.portgroup": [host_pg("VM Network", 0, "vSwitch0"),
                                                               host_pg("ALL", 4095, "vSwitch2")]}),
        ("Network", "network-1", {"name": "VLAN100", "parent": "group-n1", "host": ["host-1", "host-2"]}),
        ("Network", "network-2", {"name": "VM Network", "parent": "group-n1", "host": []}),
        ("Network", "network-3", {"name": "ALL", "parent": "group-n1", "host": ["host-3"]}),
        ("DistributedVirtualSwitch", "dvs-1", {
            "name": "DVS0", "parent": "group-n1", "uuid": DVS_UUID,
            "config": {"_type": "VMwareDVSConfigInfo", "uplinkPortgroup": ["dvportgroup-9"], "pvlanConfig": [
                {"_type": "VMwareDVSPvlanMapEntry", "primaryVlanId": 300, "secondaryVlanId": 300, "pvlanType": "promiscuous"},
                {"_type": "VMwareDVSPvlanMapEntry", "primaryVlanId": 300, "secondaryVlanId": 301, "pvlanType": "isolated"},
                {"_type": "VMwareDVSPvlanMapEntry", "primaryVlanId": 300, "secondaryVlanId": 302, "pvlanType": "community"},
            ]}}),
        dvpg("dvportgroup-1", "DVPG200", vlan_spec(200), HOSTS_DC0),
        dvpg("dvportgroup-2", "PV-isolated", pvlan_spec(301), HOSTS_DC0),
        dvpg("dvportgroup-3", "PV-community", pvlan_spec(302), HOSTS_DC0),
        dvpg("dvportgroup-4", "PV-promiscuous", pvlan_spec(300), HOSTS_DC0),
        dvpg("dvportgroup-5", "TRUNK", trunk_spec((400, 409), (4000, 4000)), HOSTS_DC0),
        dvpg("dvportgroup-9", "DVS0-DVUplinks-1", trunk_spec((0, 4094)), HOSTS_DC0),
        ("Datastore", "datastore-1", {"name": "vmfs-1", "summary.type": "VMFS",
                                      "info": {"_type": "VmfsDatastoreInfo", "name": "vmfs-1"}}),
        ("Datastore", "datastore-2", {"name": "nfs-1", "summary.type": "NFS", "info": {
            "_type": "NasDatastoreInfo", "name": "nfs-1",
            "nas": {"_type": "HostNasVolume", "type": "NFS", "remoteHost": "10.0.0.5", "remotePath": "/export/vms"}}}),
        # a second datacenter with a cluster of the same name
        ("Datacenter", "datacenter-2", {"name": "DC1", "parent": "group-d1", "vmFolder": "group-v11",
                                        "hostFolder": "group-h11", "networkFolder": "group-n11"}),
        ("Folder", "group-v11", {"name": "vm", "parent": "datacenter-2"}),
        ("Folder", "group-h11", {"name": "host", "parent": "datacenter-2"}),
        ("Folder", "group-v12", {"name": "Apps", "parent": "group-v11"}),
        ("ClusterComputeResource", "domain-c11", {"name": "C0", "parent": "group-h11"}),
        ("HostSystem", "host-11", {"name": "esx-z", "parent": "domain-c11", "network": [],
                                   "config.network.portgroup": []}),
    ]
    return copy.deepcopy(objs)


CUSTOM_FIELDS = [{"_type": "CustomFieldDef", "key": 101, "name": "cloud.vm.internal.name"},
                 {"_type": "CustomFieldDef", "key": 102, "name": "owner"}]


def controller(kind, key, bus):
    return {"_type": kind, "key": key, "busNumber": bus, "deviceInfo": {"_type": "Description", "label": "ctl %d" % bus}}


def disk(key, label, ctl_key, unit, datastore="datastore-1", path=None, kb=None, nbytes=None, object_id=None):
    d = {"_type": "VirtualDisk", "key": key, "controllerKey": ctl_key, "unitNumber": unit,
         "deviceInfo": {"_type": "Description", "label": label},
         "backing": {"_type": "VirtualDiskFlatVer2BackingInfo", "fileName": path or "[vmfs-1] vm/%d.vmdk" % key,
                     "datastore": datastore}}
    if kb is not None:
        d["capacityInKB"] = kb
    if nbytes is not None:
        d["capacityInBytes"] = nbytes
    if object_id:
        d["diskObjectId"] = object_id
    return d


def nic_std(key, label, network_name, mac, kind="VirtualVmxnet3", slot=None, network="network-1"):
    d = {"_type": kind, "key": key, "macAddress": mac, "addressType": "assigned",
         "deviceInfo": {"_type": "Description", "label": label},
         "backing": {"_type": "VirtualEthernetCardNetworkBackingInfo", "deviceName": network_name, "network": network}}
    if slot is not None:
        d["slotInfo"] = {"_type": "VirtualDevicePciBusSlotInfo", "pciSlotNumber": slot}
    return d


def nic_dvs(key, label, pg_key, mac, kind="VirtualVmxnet3"):
    return {"_type": kind, "key": key, "macAddress": mac, "addressType": "generated",
            "deviceInfo": {"_type": "Description", "label": label},
            "backing": {"_type": "VirtualEthernetCardDistributedVirtualPortBackingInfo",
                        "port": {"_type": "DistributedVirtualSwitchPortConnection", "switchUuid": DVS_UUID,
                                 "portgroupKey": pg_key, "portKey": "12"}}}


def vm(name, host="host-1", parent="group-v1", devices=None, power="poweredOn", cpus=2, reservation=0,
       max_cpu=None, memory=2048, tools="toolsNotInstalled", net=None, template=False, custom=None,
       guest_id=None, guest_name=None, cores=1):
    return {
        "name": name, "parent": parent,
        "summary.config": {"_type": "VirtualMachineConfigSummary", "name": name, "template": template,
                           "numCpu": cpus, "memorySizeMB": memory, "cpuReservation": reservation,
                           "guestId": "centos7_64Guest", "guestFullName": "CentOS 7 (64-bit)",
                           "instanceUuid": "uuid-" + name},
        "config.hardware.numCoresPerSocket": cores,
        "config.hardware.device": devices if devices is not None else [],
        "runtime.host": host, "runtime.powerState": power, "runtime.maxCpuUsage": max_cpu,
        "guest.toolsStatus": tools, "guest.guestId": guest_id, "guest.guestFullName": guest_name,
        "guest.net": net or [],
        "customValue": [{"_type": "CustomFieldStringValue", "key": k, "value": v} for k, v in (custom or {}).items()],
    }


def sample_vms():
    """moid -> props of a few VMs covering the rules."""
    pci = controller("ParaVirtualSCSIController", 1000, 0)
    lsi = controller("VirtualLsiLogicController", 1001, 1)
    sata = controller("VirtualAHCIController", 15000, 0)
    return {
        "vm-10": vm("multi", devices=[
            pci, lsi, sata,
            disk(2000, "Hard disk 1", 1000, 0, kb=16 * 1024 * 1024, object_id="10-2000"),
            disk(2016, "Hard disk 10", 1001, 0, datastore="datastore-2", path="[nfs-1] multi_1.vmdk", nbytes=4 << 30),
            disk(16000, "Hard disk 2", 15000, 0, kb=1024),
            nic_std(4000, "Network adapter 1", "VLAN100", "00:50:56:aa:00:01", slot=160),
            nic_dvs(4001, "Network adapter 2", "dvportgroup-2", "00:50:56:aa:00:02", kind="VirtualE1000e"),
            nic_dvs(4002, "Network adapter 3", "dvportgroup-5", "00:50:56:aa:00:03"),
        ], tools="toolsOk", max_cpu=4588, cpus=2, reservation=1000, guest_id="rhel7_64Guest",
            guest_name="Red Hat Enterprise Linux 7 (64-bit)",
            net=[{"_type": "GuestNicInfo", "macAddress": "00:50:56:AA:00:01", "ipAddress": ["10.0.0.1", "fe80::1"]},
                 {"_type": "GuestNicInfo", "macAddress": "00:50:56:aa:00:02", "ipAddress": ["10.0.1.1", "10.0.1.2"]}]),
        "vm-11": vm("off-b", host="host-2", parent="group-v2", power="poweredOff", reservation=1500, cpus=4,
                    devices=[pci, disk(2000, "Hard disk 1", 1000, 0, kb=1024),
                             nic_std(4000, "Network adapter 1", "VLAN100", "00:50:56:aa:00:11")]),
        "vm-12": vm("stale-tools", host="host-3", parent="group-v3", tools="toolsNotRunning",
                    devices=[nic_dvs(4000, "Network adapter 1", "dvportgroup-4", "00:50:56:aa:00:21")],
                    net=[{"_type": "GuestNicInfo", "macAddress": "00:50:56:aa:00:21", "ipAddress": ["10.9.9.9"]}]),
        "vm-13": vm("managed-by-name", devices=[nic_dvs(4000, "Network adapter 1", "dvportgroup-1", "00:50:56:aa:00:31")]),
        "vm-14": vm("renamed-in-vsphere", custom={101: "i-2-34-VM", 102: "finance"},
                    devices=[nic_dvs(4000, "Network adapter 1", "dvportgroup-3", "00:50:56:aa:00:41")]),
        "vm-15": vm("tpl-centos", template=True, power="poweredOff",
                    devices=[nic_dvs(4000, "Network adapter 1", "dvportgroup-1", "00:50:56:aa:00:51")]),
        "vm-20": vm("dc1-vm", host="host-11", parent="group-v12"),
    }
