#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: vsphere_unmanaged_facts
short_description: List vSphere VMs that Apache CloudStack does not manage, as listUnmanagedInstances does
version_added: 0.1.0
description:
  - Lists the virtual machines of a vCenter (or of a datacenter, cluster, host or VM folder) that are not
    templates and not excluded, in the shape of Apache CloudStack's C(listUnmanagedInstances) answer, so that
    M(vmimport.migrate.cloudstack_import_plan) and M(vmimport.migrate.cloudstack_unmanaged_import) can plan and
    check an import before CloudStack is asked.
  - Values follow CloudStack's own rules (C(VmwareHelper.getUnmanagedInstance)) - CPU speed is the CPU
    reservation, or for a running VM the maximum CPU usage divided by the number of CPUs; the VLAN of a NIC on a
    distributed portgroup comes from its port settings, a PVLAN gives the primary VLAN, the secondary id and the
    type, a trunk gives no VLAN; IPv4 addresses are reported only when VMware Tools is OK; disks and NICs are
    sorted by the number in their label.
  - Exclude the VMs CloudStack already manages with O(exclude) - their names or their internal names
    (the C(cloud.vm.internal.name) custom attribute CloudStack sets, such as C(i-2-34-VM)).
  - Everything is read with the PropertyCollector over container views - one pass for the inventory
    (datacenters, clusters, hosts, networks, switches, datastores) and one for the VMs - so the number of
    vCenter requests does not grow with the number of VMs (only with the number of pages vCenter answers).
  - With O(tags=true), the VMs' vSphere tags too (they are only available through the vSphere Automation REST API).
  - Read-only; never changes anything.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  datacenter:
    description:
      - Only VMs of this datacenter.
    type: str
  cluster:
    description:
      - Only VMs running on hosts of this cluster. Set O(datacenter) too when the name exists in several datacenters.
    type: str
  host:
    description:
      - Only VMs registered on this ESXi host (its name in vCenter).
    type: str
  folder:
    description:
      - Only VMs in this VM folder or its subfolders, given as an inventory path (V(/DC0/vm/Apps)) or as a path
        under the datacenter's VM folder (V(Apps/Web)).
    type: str
  exclude:
    description:
      - Names or internal names (custom attribute C(cloud.vm.internal.name)) of VMs to leave out, typically the VMs
        CloudStack already manages. Matching is exact.
    type: list
    elements: str
    default: []
  names:
    description:
      - Only the VMs with these names (like the C(name) parameter of C(listUnmanagedInstances)).
    type: list
    elements: str
  tags:
    description:
      - Also read the vSphere tags of the VMs (for plans that choose an owner by tag), through the vSphere
        Automation REST API (C(/api), or C(/rest) on older vCenters) with the same credentials. This costs a few
        requests (login, one listing for all VMs, one per distinct tag and category), none per VM.
      - Without an Automation API (an ESXi host) the module warns and returns no tags.
    type: bool
    default: false
  page_size:
    description:
      - At most this many objects per PropertyCollector answer (C(maxObjects)); each further page is one more
        request (C(ContinueRetrievePropertiesEx)). Set it to bound the memory used for a very large vCenter.
      - When not set, vCenter chooses the page size (it may also answer fewer objects than asked).
    type: int
extends_documentation_fragment:
  - vmimport.migrate.vsphere
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; check mode returns the same facts.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: vmimport.migrate.vsphere_network_facts
  - module: vmimport.migrate.cloudstack_import_plan
  - module: vmimport.migrate.cloudstack_unmanaged_import
'''

EXAMPLES = r'''
- name: VMs of cluster DC0_C0 that CloudStack does not manage yet
  vmimport.migrate.vsphere_unmanaged_facts:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    datacenter: DC0
    cluster: DC0_C0
    exclude: "{{ cloudstack_managed_vm_names }}"
  register: unmanaged

- name: Names of the running VMs (a fixed compute offering must match them exactly)
  ansible.builtin.debug:
    msg: "{{ unmanaged.instances | selectattr('powerstate', 'eq', 'PowerOn') | map(attribute='name') | list }}"

- name: One folder, connection from the environment (VMWARE_HOST, VMWARE_USER, VMWARE_PASSWORD)
  vmimport.migrate.vsphere_unmanaged_facts:
    folder: /DC0/vm/Apps
  register: apps
'''

RETURN = r'''
instances:
  description:
    - The unmanaged VMs, sorted by name, in the shape of CloudStack's C(listUnmanagedInstances) items (keys
      C(name), C(osdisplayname), C(osid), C(memory), C(powerstate), C(cpunumber), C(cpucorespersocket),
      C(cpuspeed), C(disk), C(nic)) plus their vSphere location.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
      sample: app-multi-01
    cluster:
      description: Cluster of the VM's host (null for a standalone host).
      type: str
      sample: DC0_C0
    host:
      description: Name of the ESXi host the VM is registered on.
      type: str
      sample: DC0_C0_H0
    datacenter:
      description: Datacenter name.
      type: str
      sample: DC0
    folder:
      description: Inventory path of the VM's folder.
      type: str
      sample: /DC0/vm/Apps
    moid:
      description: Managed object id of the VM.
      type: str
      sample: vm-152
    instanceuuid:
      description: vCenter instance UUID of the VM.
      type: str
    internalname:
      description: The C(cloud.vm.internal.name) custom attribute, when set (a VM CloudStack managed).
      type: str
    osid:
      description: Guest OS id (from VMware Tools, else from the VM configuration), as CloudStack's C(osid).
      type: str
      sample: centos7_64Guest
    osdisplayname:
      description: Guest OS full name, as CloudStack's C(osdisplayname).
      type: str
      sample: CentOS 7 (64-bit)
    memory:
      description: Memory in MiB.
      type: int
      sample: 4096
    powerstate:
      description: V(PowerOn), V(PowerOff) or V(PowerUnknown) (CloudStack's values).
      type: str
    cpunumber:
      description: Number of virtual CPUs.
      type: int
    cpucorespersocket:
      description: Cores per socket.
      type: int
    cpuspeed:
      description: CPU speed in MHz as CloudStack computes it (reservation; running VM - max CPU usage / CPUs).
      type: int
    customattributes:
      description: Custom attributes of the VM by name.
      type: dict
    tags:
      description: Names of the VM's vSphere tags, sorted.
      returned: when O(tags=true)
      type: list
      elements: str
      sample: [finance]
    tagcategories:
      description: The VM's vSphere tag names by tag category name.
      returned: when O(tags=true)
      type: dict
      sample: {"Owner": ["finance"]}
    disk:
      description: Disks sorted by the number in their label.
      type: list
      elements: dict
      contains:
        id:
          description: vSphere disk object id (C(<vm number>-<device key>)), the disk id CloudStack uses.
          type: str
          sample: 152-2000
        label:
          description: Device label.
          type: str
          sample: Hard disk 1
        capacity:
          description: Size in bytes.
          type: int
        controller:
          description: Controller type (V(pvscsi), V(lsilogic), V(lsisas1068), V(buslogic), V(ide), V(sata), V(nvme), V(none)).
          type: str
        controllerunit:
          description: Bus number of the controller.
          type: int
        position:
          description: Unit number of the disk on its controller.
          type: int
        imagepath:
          description: Disk file, C([datastore] path.vmdk).
          type: str
        datastorename:
          description: Datastore name.
          type: str
        datastoretype:
          description: Datastore type (V(VMFS), V(NFS), V(NFS41), V(vsan), V(VVOL)...).
          type: str
        datastorehost:
          description: NFS server of an NFS datastore (null otherwise).
          type: str
        datastorepath:
          description: Export path of an NFS datastore (null otherwise).
          type: str
    nic:
      description: NICs sorted by the number in their label.
      type: list
      elements: dict
      contains:
        id:
          description: Device label, the NIC id CloudStack uses.
          type: str
          sample: Network adapter 1
        macaddress:
          description: MAC address.
          type: str
        networkname:
          description: Portgroup name.
          type: str
        vlanid:
          description: VLAN (the primary VLAN of a PVLAN); 0 when untagged or a trunk.
          type: int
        pvlanid:
          description: Secondary PVLAN id (null when not a PVLAN).
          type: int
        pvlantype:
          description: V(promiscuous), V(isolated) or V(community) (null when not a PVLAN).
          type: str
        vlantrunk:
          description: VLAN ranges of a trunk portgroup (V(400-409), V(4000)); empty otherwise.
          type: list
          elements: str
        pcislot:
          description: PCI slot number.
          type: str
        adaptertype:
          description: V(Vmxnet3), V(Vmxnet2), V(PCNet32) or V(E1000) (CloudStack's names; E1000e is E1000).
          type: str
        ipaddress:
          description: IPv4 addresses reported by VMware Tools (empty unless Tools is OK).
          type: list
          elements: str
        switchname:
          description: Standard or distributed switch name.
          type: str
        switchtype:
          description: V(standard), V(distributed) or V(opaque).
          type: str
excluded:
  description: Names of the VMs left out by O(exclude).
  returned: always
  type: list
  elements: str
templates:
  description: Names of the templates in scope (never listed as instances).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere import (
    HAS_PYVMOMI,
    PYVMOMI_IMPORT_ERROR,
    VsphereClient,
    VsphereError,
    VsphereTags,
    vsphere_argument_spec,
)
from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import (
    VM_PROPERTIES,
    ScopeError,
    unmanaged_instances,
)


def main():
    module = AnsibleModule(
        argument_spec=vsphere_argument_spec(
            datacenter=dict(type="str"),
            cluster=dict(type="str"),
            host=dict(type="str"),
            folder=dict(type="str"),
            exclude=dict(type="list", elements="str", default=[]),
            names=dict(type="list", elements="str"),
            tags=dict(type="bool", default=False),
            page_size=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    if not HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyVmomi"), exception=PYVMOMI_IMPORT_ERROR)
    p = module.params
    if p["page_size"] is not None and p["page_size"] < 1:
        module.fail_json(msg="page_size must be at least 1 (got %s)" % p["page_size"])

    error = None
    try:
        with VsphereClient.from_params(p) as client:
            inventory = client.inventory(p["page_size"])
            scope = inventory.resolve_scope(p["datacenter"], p["cluster"], p["host"], p["folder"])
            vms = client.virtual_machines(inventory, scope["root"], VM_PROPERTIES, p["page_size"])
        vm_tags = None
        if p["tags"]:
            with VsphereTags.from_params(p) as rest:
                vm_tags = rest.tags_of(("VirtualMachine", moid) for moid in sorted(vms))
            if vm_tags is None:
                module.warn("%s has no vSphere Automation API (an ESXi host?): VM tags were not read" % rest.where)
                vm_tags = {}
    except (VsphereError, ScopeError) as e:
        error = str(e)
    if error:  # failed outside the except block: an expected error, no traceback attached
        module.fail_json(msg=error)

    facts = unmanaged_instances(inventory, vms, scope, exclude=p["exclude"], names=p["names"], tags=vm_tags)
    if p["names"]:
        found = set(i["name"] for i in facts["instances"]) | set(facts["excluded"]) | set(facts["templates"])
        missing = [n for n in p["names"] if n not in found]
        if missing:
            module.warn("no VM named %s in scope" % ", ".join(missing))
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
