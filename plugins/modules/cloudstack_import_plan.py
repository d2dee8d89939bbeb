#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: cloudstack_import_plan
short_description: Write and read the plan of a vSphere to CloudStack import (CSV and YAML)
version_added: 0.1.0
description:
  - With O(state=write), turns the unmanaged VMs (the C(instances) that
    M(vmimport.migrate.vsphere_unmanaged_facts) returns) and mapping O(rules) into a plan, one row
    per VM, written as CSV and YAML files for an operator to review and edit. Files are only
    rewritten when their content changes.
  - With O(state=read), reads an edited plan (CSV or YAML), checks every row against the VMs
    and, when CloudStack credentials are set, against CloudStack (names, offerings, networks,
    every rule of C(importUnmanagedInstance)), and reports every problem of every row at once.
  - "Row format (CSV columns, YAML keys, the options of M(vmimport.migrate.cloudstack_unmanaged_import)):
    C(name) (vSphere VM name), C(action) (C(import) or C(skip)), C(zone), C(cluster), C(display_name),
    C(host_name), C(service_offering), C(details) (C(cpuSpeed=2000;key=value)), C(template), C(domain)
    (path such as C(ROOT/finance)), C(account), C(project),
    C(nic_networks) (C(Network adapter 1=net-a;Network adapter 2=net-b)),
    C(nic_ip_addresses) (C(Network adapter 2=10.40.0.21) or C(=auto)), C(data_disk_offerings)
    (C(101-2001=disk-100g;101-2002=disk-100g), every disk but the root disk), C(migrate_allowed),
    C(forced) (C(true)/C(false)); C(vm_power_state), C(vm_cpu), C(vm_memory_mb), C(vm_os), C(vm_nics),
    C(vm_disks) describe the VM (refreshed on write, ignored on read); C(notes) is free text
    (on write, what the rules could not decide)."
  - In YAML the C(key=value;...) columns may be written as mappings (the module writes them so).
    Names and NIC/disk ids cannot contain C(;) or C(=) in the CSV form.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  state:
    description:
      - V(write) builds the plan and writes the files; V(read) reads and validates a plan.
    type: str
    choices: [ write, read ]
    required: true
  instances:
    description:
      - The unmanaged VMs, in the shape of CloudStack's C(listUnmanagedInstances) (C(cluster) and
        C(host) names, C(name), C(osdisplayname), C(osid), C(memory), C(powerstate), C(cpunumber),
        C(cpuspeed), C(disk) and C(nic) lists), optionally with C(folder) (inventory path),
        C(customattributes) (name to value) and C(tags) (C(category:tag) strings) for the owner rules,
        as M(vmimport.migrate.vsphere_unmanaged_facts) returns them.
      - Required with O(state=write). With O(state=read) every row is checked against them.
    type: list
    elements: dict
  rules:
    description:
      - How to fill the rows (O(state=write)). Keys (all optional) follow.
      - C(zone), C(cluster) (default is the VM's vSphere cluster name), C(action) (C(import) or C(skip)).
      - "C(networks): C(by_portgroup) (portgroup name: network) and C(by_vlan) (C(100), C(vlan://100),
        C(300-i301) or C(pvlan://300-i301): network), then C(default) (a network for the NICs nothing
        else maps). A NIC left unmapped is matched by VLAN as CloudStack does when CloudStack credentials
        are set; without them a NIC with a VLAN is left for CloudStack to match."
      - "C(auto_ip_networks): networks whose NICs get C(auto) (with credentials, shared and isolated
        networks are known); a NIC whose VMware Tools report no single IP is left for the operator."
      - "C(service_offerings): list, first match wins, of C(service_offering) with optional C(cpu),
        C(cpu_min), C(cpu_max), C(memory_mb), C(memory_min_mb), C(memory_max_mb), C(power_state),
        C(cpu_speed) (sent as C(cpuSpeed) when the VM has none) and C(details)."
      - "C(data_disk_offerings): a disk offering, or a list of C(disk_offering) with optional C(min_gb),
        C(max_gb); the first disk is the root disk."
      - "C(owners): list of C(account)/C(domain) or C(project) with optional C(folder) (glob on the VM's
        folder) and C(tag) (a C(category:tag) of the VM's C(tags), or C(name:value) of a custom attribute);
        C(owner): the default owner."
      - "C(templates): list of C(guest_os) (glob on C(osid) or C(osdisplayname)) and C(template)."
      - "C(details) (for every row), C(migrate_allowed), C(forced), C(host_name) (C(sanitize), the default,
        derives a valid host name from an invalid VM name; C(keep))."
    type: dict
    default: {}
  csv_path:
    description:
      - CSV file of the plan (O(state=write)).
    type: path
  yaml_path:
    description:
      - YAML file of the plan (O(state=write)).
    type: path
  path:
    description:
      - Plan file to read (O(state=read)).
    type: path
  format:
    description:
      - Format of O(path); V(auto) goes by its extension (C(.csv), C(.yml), C(.yaml)).
    type: str
    choices: [ auto, csv, yaml ]
    default: auto
  mode:
    description:
      - With O(state=write), V(merge) keeps the rows already in the files as the operator edited
        them (taking the file changed last when both exist), refreshes their C(vm_*) columns, and
        adds rows for new VMs; V(replace) writes the plan from the rules alone.
    type: str
    choices: [ merge, replace ]
    default: merge
  fail_on_problems:
    description:
      - With O(state=read), fail when a row has a problem (all of them listed). With V(false), return
        the problems and the rows that are ready.
    type: bool
    default: true
extends_documentation_fragment:
  - vmimport.migrate.cloudstack
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: With O(state=write), reports whether the files would change without writing them.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - CloudStack is asked only when O(api_url) (or E(CLOUDSTACK_ENDPOINT)) is set. It then keeps the VMs it
    manages out of a written plan, and marks the rows of VMs already imported as C(managed) when reading.
seealso:
  - module: vmimport.migrate.cloudstack_unmanaged_import
'''

EXAMPLES = r'''
- name: Write the plan from the facts and the rules
  vmimport.migrate.cloudstack_import_plan:
    state: write
    instances: "{{ unmanaged.instances }}"
    csv_path: /srv/migration/plan.csv
    yaml_path: /srv/migration/plan.yml
    rules:
      zone: zone1
      networks:
        by_portgroup:
          "VM Network": l2-untagged
        by_vlan:
          100: l2-vlan100
          "pvlan://300-i301": l2-pvlan300-i301
      auto_ip_networks: [shared-vlan400]
      service_offerings:
        - {cpu: 1, memory_mb: 1024, power_state: PowerOn, service_offering: small-fixed}
        - {cpu_max: 16, service_offering: custom-constrained}
      data_disk_offerings:
        - {max_gb: 100, disk_offering: disk-100g}
        - {disk_offering: disk-custom}
      owners:
        - {folder: "/DC0/vm/finance*", domain: ROOT/finance, account: finance-ops}
        - {tag: "team:web", project: web}
      templates:
        - {guest_os: "centos7*", template: centos7-template}

- name: Read the plan the operator edited, checked against vSphere facts and CloudStack
  vmimport.migrate.cloudstack_import_plan:
    state: read
    path: /srv/migration/plan.csv
    instances: "{{ unmanaged.instances }}"
    api_url: "{{ cloudstack_api_url }}"
    api_key: "{{ cloudstack_api_key }}"
    api_secret: "{{ cloudstack_api_secret }}"
  register: plan

- name: Import every ready row
  vmimport.migrate.cloudstack_unmanaged_import:
    api_url: "{{ cloudstack_api_url }}"
    api_key: "{{ cloudstack_api_key }}"
    api_secret: "{{ cloudstack_api_secret }}"
    name: "{{ item.name }}"
    zone: "{{ item.zone }}"
    cluster: "{{ item.cluster }}"
    service_offering: "{{ item.service_offering }}"
    display_name: "{{ item.display_name | default(omit) }}"
    host_name: "{{ item.host_name | default(omit) }}"
    template: "{{ item.template | default(omit) }}"
    domain: "{{ item.domain | default(omit) }}"
    account: "{{ item.account | default(omit) }}"
    project: "{{ item.project | default(omit) }}"
    details: "{{ item.details | default({}) }}"
    nic_networks: "{{ item.nic_networks | default({}) }}"
    nic_ip_addresses: "{{ item.nic_ip_addresses | default({}) }}"
    data_disk_offerings: "{{ item.data_disk_offerings | default({}) }}"
    migrate_allowed: "{{ item.migrate_allowed }}"
    forced: "{{ item.forced }}"
  loop: "{{ plan.imports }}"
  loop_control:
    label: "{{ item.name }}"
'''

RETURN = r'''
rows:
  description:
    - With O(state=write), the plan rows as written (columns as in the description).
    - With O(state=read), one entry per row with C(row) (number), C(name), C(action), C(status)
      (C(ready), C(skip), C(managed) (already imported), C(invalid)), C(options)
      (the cloudstack_unmanaged_import options of the row) and C(notes).
  returned: always
  type: list
  elements: dict
imports:
  description: The cloudstack_unmanaged_import options of every row that is ready to import (O(state=read)).
  returned: when state is read
  type: list
  elements: dict
  sample: [{"name": "web01", "zone": "zone1", "cluster": "DC0_C0", "service_offering": "custom-constrained",
            "data_disk_offerings": {"101-2001": "disk-100g"}, "migrate_allowed": false, "forced": false}]
problems:
  description: Every problem of every row (C(row), C(vm), C(column), C(message), C(text)).
  returned: when state is read
  type: list
  elements: dict
added:
  description: VMs whose rows were added (O(state=write)).
  returned: when state is write
  type: list
  elements: str
kept:
  description: VMs whose rows were kept from the existing plan (O(state=write), merge).
  returned: when state is write
  type: list
  elements: str
stale:
  description: Rows of the existing plan whose VM is no longer among the instances (kept as they are).
  returned: when state is write
  type: list
  elements: str
excluded:
  description:
    - VMs left out of the plan because CloudStack manages them (their name or internal name is the instance
      name of a CloudStack VM, system VM or router of the zone). Only with CloudStack credentials and rules.zone.
  returned: when state is write
  type: list
  elements: str
merged_from:
  description: The existing plan file the rows were kept from.
  returned: when state is write and a plan existed
  type: str
files:
  description: Each written file with whether it changed.
  returned: when state is write
  type: list
  elements: dict
'''

import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.vmimport.migrate.plugins.module_utils.cloudstack import (
    CS_IMPORT_ERROR, HAS_CS, Catalog, CloudStackError, ResolveError, client_from_params, cloudstack_argument_spec,
    missing_auth,
)
from ansible_collections.vmimport.migrate.plugins.module_utils.cloudstack_plan import (
    HAS_YAML, PlanError, build_plan, format_of, load_rows, render_csv, render_yaml, validate_plan, validate_rules,
)


def read_text(path):
    with open(path, 'rb') as f:
        return to_text(f.read(), errors='surrogate_or_strict')


def catalog_for(module):
    """A Catalog when CloudStack credentials are given, else None."""
    p = module.params
    if not p.get('api_url'):
        return None
    if not HAS_CS:
        module.fail_json(msg=missing_required_lib('cs'), exception=str(CS_IMPORT_ERROR))
    missing = missing_auth(p)
    if missing:
        module.fail_json(msg=missing)
    return Catalog(client_from_params(p))


def existing_rows(paths):
    """(rows, path) of the plan file changed last among paths, or ([], None)."""
    present = [p for p in paths if p and os.path.exists(p)]
    if not present:
        return [], None
    newest = max(present, key=lambda p: os.stat(p).st_mtime)
    return load_rows(read_text(newest), format_of(newest), newest), newest


def write_file(module, path, content):
    """(changed, before) ; writes atomically unless check mode."""
    before = read_text(path) if os.path.exists(path) else None
    if before == content:
        return False, before
    if not module.check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            module.fail_json(msg="cannot write the plan %s: directory %s does not exist" % (path, directory))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.plan-')
        with os.fdopen(fd, 'wb') as f:
            f.write(to_bytes(content))
        module.atomic_move(tmp, path)
    return True, before


def write(module):
    p = module.params
    if p['instances'] is None:
        module.fail_json(msg="state=write needs instances (the unmanaged VMs, e.g. vsphere_unmanaged_facts' "
                             "instances)")
    if not p['csv_path'] and not p['yaml_path']:
        module.fail_json(msg="state=write needs csv_path, yaml_path or both")
    if p['yaml_path'] and not HAS_YAML:
        module.fail_json(msg=missing_required_lib('PyYAML'))
    rules = validate_rules(p['rules'])
    cloud = None
    catalog = catalog_for(module)
    if catalog is not None and rules.get('zone'):
        zone = catalog.zone(rules['zone'])
        cloud = {'zone': zone, 'networks': catalog.networks(zone['id']), 'managed': catalog.managed_names(zone)}
    existing, merged_from = [], None
    if p['mode'] == 'merge':
        existing, merged_from = existing_rows([p['csv_path'], p['yaml_path']])
    rows, report = build_plan(p['instances'], rules, cloud, existing)
    result = dict(changed=False, rows=rows, files=[], **report)
    if merged_from:
        result['merged_from'] = merged_from
    diffs = []
    for path, render in ((p['csv_path'], render_csv), (p['yaml_path'], render_yaml)):
        if not path:
            continue
        content = render(rows)
        changed, before = write_file(module, path, content)
        result['files'].append({'path': path, 'changed': changed})
        result['changed'] = result['changed'] or changed
        if changed:
            diffs.append({'before_header': path, 'after_header': path, 'before': before or '', 'after': content})
    if module._diff:
        result['diff'] = diffs
    return result


def read(module):
    p = module.params
    if not p['path']:
        module.fail_json(msg="state=read needs path (the plan file to read)")
    if not os.path.exists(p['path']):
        module.fail_json(msg="plan %s does not exist: write it first with state=write" % p['path'])
    fmt = format_of(p['path'], p['format'])
    if fmt == 'yaml' and not HAS_YAML:
        module.fail_json(msg=missing_required_lib('PyYAML'))
    raw = load_rows(read_text(p['path']), fmt, p['path'])
    catalog = catalog_for(module)
    rows, problems = validate_plan(raw, p['instances'], catalog, ResolveError)
    imports = [r['options'] for r in rows if r['status'] == 'ready']
    result = dict(changed=False, rows=rows, problems=problems, imports=imports)
    if problems and p['fail_on_problems']:
        result['msg'] = "plan %s has %d problem(s) in %d row(s): %s" % (
            p['path'], len(problems), len(set(x['row'] for x in problems)), "; ".join(x['text'] for x in problems))
        result['failed'] = True
    return result


def main():
    argument_spec = cloudstack_argument_spec()
    argument_spec.update(
        state=dict(type='str', required=True, choices=['write', 'read']),
        instances=dict(type='list', elements='dict'),
        rules=dict(type='dict', default={}),
        csv_path=dict(type='path'),
        yaml_path=dict(type='path'),
        path=dict(type='path'),
        format=dict(type='str', default='auto', choices=['auto', 'csv', 'yaml']),
        mode=dict(type='str', default='merge', choices=['merge', 'replace']),
        fail_on_problems=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = write(module) if module.params['state'] == 'write' else read(module)
    except PlanError as e:
        module.fail_json(msg=str(e))
    except ResolveError as e:
        module.fail_json(msg=str(e))
    except CloudStackError as e:
        module.fail_json(msg=str(e))
    except (IOError, OSError) as e:
        module.fail_json(msg="cannot access the plan: %s" % e, exception=traceback.format_exc())
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
