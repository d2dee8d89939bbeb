#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: cloudstack_unmanaged_import
short_description: Import an unmanaged vSphere VM into Apache CloudStack
version_added: 0.1.0
description:
  - Imports one VM that runs on a CloudStack-managed vSphere cluster but is not managed by
    CloudStack, with C(importUnmanagedInstance), and waits for the async job.
  - Resolves names to UUIDs (cluster, zone, service and disk offerings, networks, template,
    domain, account, project).
  - Maps every NIC to a network, explicitly (O(nic_networks)) or by VLAN the way CloudStack does
    (the first guest network of the zone whose broadcast URI is C(vlan://N) or
    C(pvlan://P-{i|c|p}S)), and sends the whole mapping so that the call does what was checked.
  - Before calling, checks every rule CloudStack applies (host name, guest OS without template,
    fixed offering against a running VM, custom offering limits and CPU speed, N-1 data disk
    offerings, data disk controllers, disk offering sizes, storage pools, NIC adapters, NIC
    networks and VLANs, IPs on shared and isolated networks, C(auto) with several IPs, host name
    and MAC already in the network) and fails with CloudStack's own wording, every problem at
    once, each prefixed with the VM name and followed by what to change.
  - A VM that CloudStack already manages (its instance name is the vSphere name) is not changed.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  name:
    description:
      - Name of the VM in vSphere (as C(listUnmanagedInstances) lists it).
    type: str
    required: true
  cluster:
    description:
      - CloudStack cluster (name or UUID) of the vSphere cluster the VM runs on.
    type: str
    required: true
  zone:
    description:
      - CloudStack zone (name or UUID) of O(cluster), needed only when cluster names repeat across zones.
    type: str
  service_offering:
    description:
      - Compute offering (name or UUID).
      - A fixed offering must match the CPU count, memory and CPU speed of a running VM; a custom
        constrained offering takes the VM's values; a custom unconstrained offering needs
        C(cpuSpeed) in O(details) when the VM has no CPU reservation.
    type: str
    required: true
  display_name:
    description:
      - Display name in CloudStack. CloudStack uses the VM name when not set.
    type: str
  host_name:
    description:
      - Host name in CloudStack (1 to 63 letters, digits and hyphens, starting with a letter).
        CloudStack uses the VM name when not set, which must then be a valid host name.
    type: str
  template:
    description:
      - Template (name or UUID) to associate with the VM. Without it CloudStack uses its dummy
        template and must recognise the guest OS.
    type: str
  domain:
    description:
      - Domain of O(account), by UUID, path (C(ROOT/finance)) or unique name. Defaults to C(ROOT)
        when O(account) is set.
    type: str
  account:
    description:
      - Account that will own the VM. Without O(account) and O(project) the VM belongs to the caller.
    type: str
  project:
    description:
      - Project (name or UUID) that will own the VM. Takes precedence over O(account).
    type: str
  nic_networks:
    description:
      - NIC id (for example C(Network adapter 1)) to network (name or UUID in the VM's zone).
      - A NIC left out is matched by VLAN as CloudStack does; a NIC with VLAN 0 must be listed.
    type: dict
    default: {}
  nic_ip_addresses:
    description:
      - NIC id to IPv4 address, or C(auto) for the one address VMware Tools reports.
      - Needed for NICs on shared and isolated networks, not used on L2 networks.
    type: dict
    default: {}
  data_disk_offerings:
    description:
      - Disk id (as C(listUnmanagedInstances) lists it, for example C(51-2001)) to disk offering
        (name or UUID), for every disk except the root disk.
    type: dict
    default: {}
  details:
    description:
      - VM details, for example C(cpuSpeed) for a custom unconstrained offering.
    type: dict
    default: {}
  migrate_allowed:
    description:
      - Let CloudStack move the VM and its volumes to another host or storage pool when the
        offerings' tags do not fit the current ones.
    type: bool
    default: false
  forced:
    description:
      - Import even when a NIC's MAC address already exists in the network (CloudStack gives the
        NIC a new MAC address).
    type: bool
    default: false
  precheck:
    description:
      - Check CloudStack's rules before calling. Set to V(false) only to let CloudStack itself decide.
    type: bool
    default: true
  wait:
    description:
      - Wait for the import job to end. With V(false) the module returns the job id at once.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the import job.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between two queries of the job.
    type: float
    default: 2.0
extends_documentation_fragment:
  - vmimport.migrate.cloudstack
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Checks every rule and returns the exact API parameters without calling the import.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Compatible with Ansible's C(async)/C(poll); with O(wait=false) the job id is returned instead.
seealso:
  - module: vmimport.migrate.cloudstack_import_plan
  - name: CloudStack documentation on importing VMs
    description: listUnmanagedInstances and importUnmanagedInstance.
    link: https://docs.cloudstack.apache.org/en/latest/adminguide/virtual_machines/importing_unmanaging_vms.html
'''

EXAMPLES = r'''
- name: Import web01 with a custom offering and a data disk
  vmimport.migrate.cloudstack_unmanaged_import:
    api_url: https://cloud.example.com/client/api
    api_key: "{{ cloudstack_api_key }}"
    api_secret: "{{ cloudstack_api_secret }}"
    name: web01
    cluster: DC0_C0
    service_offering: custom-constrained
    data_disk_offerings:
      "101-2001": disk-100g
    nic_networks:
      "Network adapter 1": l2-vlan100
  register: imported

- name: Import a VM on a shared network, keeping the IP VMware Tools reports, owned by an account
  vmimport.migrate.cloudstack_unmanaged_import:
    name: db01
    zone: zone1
    cluster: DC0_C0
    service_offering: large-fixed
    domain: ROOT/finance
    account: finance-ops
    nic_ip_addresses:
      "Network adapter 2": auto
    data_disk_offerings:
      "102-2001": disk-100g
      "102-2002": disk-100g
    migrate_allowed: true

- name: Show what would be sent (check mode)
  vmimport.migrate.cloudstack_unmanaged_import:
    name: app01
    cluster: DC0_C0
    service_offering: custom-unconstrained
    details:
      cpuSpeed: 2000
  check_mode: true
  register: preview

- name: Start the import and come back later
  vmimport.migrate.cloudstack_unmanaged_import:
    name: app02
    cluster: DC0_C0
    service_offering: custom-constrained
    wait: false
  register: started
'''

RETURN = r'''
virtual_machine:
  description: The CloudStack VM (after the import, or the one already managed). Empty in check mode or without wait.
  returned: success
  type: dict
  sample: {"id": "1c5b...", "name": "web01", "instancename": "web01", "state": "Running"}
job_id:
  description: Id of the importUnmanagedInstance async job.
  returned: when the import was started
  type: str
  sample: 0a6f7d1e-8f0c-4d8e-9a58-7f1e0ab4c0de
api_params:
  description: The exact importUnmanagedInstance parameters (lists of mappings are sent as C(name[i].key)).
  returned: when the VM was not already managed
  type: dict
  sample: {"clusterid": "0b67...", "name": "web01", "serviceofferingid": "9f2c...",
           "nicnetworklist": [{"nic": "Network adapter 1", "network": "3288..."}],
           "migrateallowed": false, "forced": false}
api_query:
  description: The same parameters as they go on the wire.
  returned: when the VM was not already managed
  type: dict
  sample: {"nicnetworklist[0].nic": "Network adapter 1", "nicnetworklist[0].network": "3288..."}
instance:
  description: The unmanaged VM as CloudStack listed it before the import.
  returned: when the VM was not already managed
  type: dict
nic_map:
  description: NIC id to the network it is imported on, and how it was chosen (C(explicit) or C(vlan)).
  returned: when the VM was not already managed
  type: dict
  sample: {"Network adapter 1": {"id": "3288...", "name": "l2-vlan100", "how": "vlan"}}
problems:
  description: Every broken rule (CloudStack's message, the VM, the fix), when the checks failed.
  returned: failure
  type: list
  elements: dict
'''

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vmimport.migrate.plugins.module_utils.cloudstack import (
    CS_IMPORT_ERROR, HAS_CS, Catalog, CloudStackError, ResolveError, client_from_params, cloudstack_argument_spec,
    flatten_params, missing_auth,
)
from ansible_collections.vmimport.migrate.plugins.module_utils.cloudstack_import import (
    MSG_NOT_FOUND, build_api_params, check_import, map_nics, resolve_request,
)


class Failure(Exception):
    """The import cannot (or did not) happen: msg plus what the result should carry."""

    def __init__(self, msg, **extra):
        super(Failure, self).__init__(msg)
        self.msg = msg
        self.extra = extra


def run(module, catalog):
    p = module.params
    name = p['name']
    zone = catalog.zone(p['zone']) if p['zone'] else None
    cluster = catalog.cluster(p['cluster'], zone)
    zone = zone or catalog.zone_of(cluster)
    found = catalog.unmanaged(cluster['id'], name)
    if not found:
        vm = catalog.managed_vm(name, zone)
        if vm is not None:
            return {'changed': False, 'virtual_machine': vm,
                    'msg': "%s is already managed by CloudStack (VM %s)" % (name, vm.get('id'))}
        raise Failure("%s: %s (fix: check the VM name and that it runs on cluster %s, and is not a template)"
                      % (name, MSG_NOT_FOUND % (name, cluster['id']), cluster['name']))
    instance = found[0]
    request, errors = resolve_request(catalog, zone, p, ResolveError)
    if errors:
        raise Failure("%s: %s" % (name, "; ".join(errors)), problems=[{'vm': name, 'message': e} for e in errors])
    ctx = {'zone': zone, 'cluster': cluster, 'networks': catalog.networks(zone['id'])}
    if p['precheck']:
        ctx.update({'vms': catalog.virtual_machines(zone['id']), 'os_types': catalog.os_types(),
                    'os_mappings': catalog.os_mappings(), 'storage_pools': catalog.storage_pools(zone['id']),
                    'hypervisor_version': catalog.host_version(cluster, host_id=instance.get('hostid'))})
        problems, nic_map = check_import(instance, request, ctx)
        if problems:
            raise Failure("; ".join(str(x) for x in problems), problems=[x.as_dict() for x in problems],
                          instance=instance)
    else:
        nic_map, _how = map_nics(instance, request['nic_networks'], ctx['networks'], zone)
    how = map_nics(instance, request['nic_networks'], ctx['networks'], zone)[1]
    params = build_api_params(cluster['id'], request, nic_map)
    result = {'changed': True, 'api_params': params, 'api_query': flatten_params(params), 'instance': instance,
              'nic_map': dict((k, {'id': v.get('id'), 'name': v.get('name'), 'how': how.get(k, 'explicit')})
                              for k, v in nic_map.items()),
              'virtual_machine': {}}
    if module._diff:
        result['diff'] = {'before': {'name': name, 'managed': False},
                          'after': dict(params, managed=True)}
    if module.check_mode:
        return result
    job_id = catalog.client.submit('importUnmanagedInstance', **params)
    result['job_id'] = job_id
    if not p['wait']:
        return result
    try:
        job = catalog.client.wait(job_id, timeout=p['wait_timeout'], interval=p['poll_interval'],
                                  command='importUnmanagedInstance')
    except CloudStackError as e:
        raise Failure("%s: import failed: %s" % (name, e), job_id=job_id, api_params=params, errortext=e.errortext)
    result['virtual_machine'] = job.get('virtualmachine') or job
    return result


def main():
    argument_spec = cloudstack_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        cluster=dict(type='str', required=True),
        zone=dict(type='str'),
        service_offering=dict(type='str', required=True),
        display_name=dict(type='str'),
        host_name=dict(type='str'),
        template=dict(type='str'),
        domain=dict(type='str'),
        account=dict(type='str'),
        project=dict(type='str'),
        nic_networks=dict(type='dict', default={}),
        nic_ip_addresses=dict(type='dict', default={}),
        data_disk_offerings=dict(type='dict', default={}),
        details=dict(type='dict', default={}),
        migrate_allowed=dict(type='bool', default=False),
        forced=dict(type='bool', default=False),
        precheck=dict(type='bool', default=True),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=600),
        poll_interval=dict(type='float', default=2.0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_CS:
        module.fail_json(msg=missing_required_lib('cs'), exception=str(CS_IMPORT_ERROR))
    missing = missing_auth(module.params)
    if missing:
        module.fail_json(msg=missing)
    for opt in ('nic_networks', 'nic_ip_addresses', 'data_disk_offerings', 'details'):
        module.params[opt] = dict((str(k), str(v)) for k, v in (module.params[opt] or {}).items())
    catalog = Catalog(client_from_params(module.params))
    try:
        result = run(module, catalog)
    except Failure as e:
        module.fail_json(msg=e.msg, **e.extra)
    except ResolveError as e:
        module.fail_json(msg="%s: %s" % (module.params['name'], e))
    except CloudStackError as e:
        module.fail_json(msg="%s: %s" % (module.params['name'], e), job_id=e.job_id)
    except Exception as e:  # an unexpected answer: say what, keep the trace for -vvv
        module.fail_json(msg="%s: unexpected error: %s" % (module.params['name'], e),
                         exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
