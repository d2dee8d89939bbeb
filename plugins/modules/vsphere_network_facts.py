#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: vsphere_network_facts
short_description: List vSphere standard and distributed portgroups with their VLANs and the VMs on them
version_added: 0.1.0
description:
  - Reports every standard and distributed portgroup of a vCenter (or of a datacenter, cluster or host) with its
    switch, its VLAN, PVLAN (primary VLAN, secondary id and type) or trunk ranges, the hosts and clusters that
    have it, and the VMs and NICs connected to it - what CloudStack's C(discover_networks.py) helper reports,
    without its faults (it works with pyVmomi 8 and 9, decodes PVLAN and trunk portgroups, skips templates,
    takes hosts and clusters of distributed switches from the switch membership, and returns clean data).
  - Use it to create the matching CloudStack networks before an import (C(vlan://N) or C(pvlan://P-iS)
    broadcast URIs) and to write the network mapping rules of an import plan.
  - A standard portgroup configured with different switches or VLANs on different hosts gives one entry per
    configuration, each with its hosts. Uplink portgroups of distributed switches are left out.
  - Two PropertyCollector passes (inventory, then VMs), a constant number of vCenter requests. Read-only.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  datacenter:
    description:
      - Only portgroups and VMs of this datacenter.
    type: str
  cluster:
    description:
      - Only portgroups present on hosts of this cluster, with those hosts and their VMs.
    type: str
  host:
    description:
      - Only portgroups present on this host, and its VMs.
    type: str
  used_only:
    description:
      - Leave out portgroups with no VM (C(discover_networks.py) listed only those).
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
  - module: vmimport.migrate.vsphere_unmanaged_facts
'''

EXAMPLES = r'''
- name: Networks of cluster DC0_C0 that have VMs
  vmimport.migrate.vsphere_network_facts:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
    cluster: DC0_C0
    used_only: true
  register: vsphere_networks

- name: Write the report as JSON
  ansible.builtin.copy:
    content: "{{ vsphere_networks.networks | to_nice_json }}"
    dest: networks.json
    mode: "0644"

- name: PVLAN portgroups and the broadcast URI a CloudStack network needs for them
  ansible.builtin.debug:
    msg: "{{ item.portgroup }}: pvlan://{{ item.vlanid }}-{{ item.pvlantype[0] }}{{ item.pvlanid }}"
  loop: "{{ vsphere_networks.networks | selectattr('vlantype', 'eq', 'pvlan') }}"
'''

RETURN = r'''
networks:
  description: Portgroups sorted by datacenter, switch type, switch and name.
  returned: always
  type: list
  elements: dict
  contains:
    portgroup:
      description: Portgroup (network) name.
      type: str
      sample: DC0_PVLAN_isolated
    moid:
      description: Managed object id of the network.
      type: str
    switch:
      description: Standard switch (vSwitch) or distributed switch name.
      type: str
      sample: DC0_DVS0
    switchtype:
      description: V(standard) or V(distributed).
      type: str
    datacenter:
      description: Datacenter name.
      type: str
    vlantype:
      description: V(vlan), V(pvlan), V(trunk) or V(none) (untagged).
      type: str
    vlanid:
      description: VLAN id; the primary VLAN of a PVLAN; 0 when untagged or a trunk.
      type: int
      sample: 300
    pvlanid:
      description: Secondary PVLAN id (null when not a PVLAN).
      type: int
      sample: 301
    pvlantype:
      description: V(isolated), V(community) or V(promiscuous) (null when not a PVLAN).
      type: str
    vlantrunk:
      description: VLAN ranges of a trunk (V(0-4094) for a standard portgroup with VLAN 4095); empty otherwise.
      type: list
      elements: str
      sample: ["400-409", "4000"]
    hosts:
      description: Names of the hosts (in scope) that have the portgroup.
      type: list
      elements: str
    clusters:
      description: Names of the clusters of those hosts.
      type: list
      elements: str
    virtualmachines:
      description: VMs (not templates) with NICs on the portgroup, sorted by name.
      type: list
      elements: dict
      contains:
        name:
          description: VM name.
          type: str
        moid:
          description: Managed object id of the VM.
          type: str
        host:
          description: Host the VM is registered on.
          type: str
        nics:
          description: The VM's NICs on this portgroup (C(id) is the device label, C(macaddress)).
          type: list
          elements: dict
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere import (
    HAS_PYVMOMI,
    PYVMOMI_IMPORT_ERROR,
    VsphereClient,
    VsphereError,
    vsphere_argument_spec,
)
from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import (
    VM_NETWORK_PROPERTIES,
    ScopeError,
    network_facts,
)


def main():
    module = AnsibleModule(
        argument_spec=vsphere_argument_spec(
            datacenter=dict(type="str"),
            cluster=dict(type="str"),
            host=dict(type="str"),
            used_only=dict(type="bool", default=False),
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
            scope = inventory.resolve_scope(p["datacenter"], p["cluster"], p["host"])
            vms = client.virtual_machines(inventory, scope["root"], VM_NETWORK_PROPERTIES, p["page_size"])
    except (VsphereError, ScopeError) as e:
        error = str(e)
    if error:  # failed outside the except block: an expected error, no traceback attached
        module.fail_json(msg=error)

    module.exit_json(changed=False, networks=network_facts(inventory, vms, scope, used_only=p["used_only"]))


if __name__ == "__main__":
    main()
