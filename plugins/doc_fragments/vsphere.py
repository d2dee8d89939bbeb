# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the vSphere modules (plugins/module_utils/vsphere.py vsphere_argument_spec()).
    DOCUMENTATION = r'''
options:
  hostname:
    description:
      - Host name or IP address of the vCenter Server (or ESXi host).
      - The E(VMWARE_HOST) environment variable is used when the option is not set. Required one way or the other.
    type: str
  username:
    description:
      - vCenter user name, for example V(administrator@vsphere.local). Read-only permissions are enough.
      - The E(VMWARE_USER) environment variable is used when the option is not set. Required one way or the other.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). Never logged.
      - The E(VMWARE_PASSWORD) environment variable is used when the option is not set. Required one way or the other.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - HTTPS port of the vSphere API.
      - The E(VMWARE_PORT) environment variable is used when the option is not set.
    type: int
    default: 443
  validate_certs:
    description:
      - Whether the TLS certificate of vCenter must be trusted by the host running the module.
      - Set V(false) only for a lab vCenter with a self-signed certificate.
      - The E(VMWARE_VALIDATE_CERTS) environment variable is used when the option is not set.
    type: bool
    default: true
requirements:
  - pyVmomi >= 7.0.3 (tested with 8 and 9)
notes:
  - The modules log in once, read what they need through the PropertyCollector in a constant number of
    calls (plus one per page when vCenter pages its answers) and log out.
  - Use C(module_defaults) with C(group/vmimport.migrate.vsphere) to set the connection options once.
'''
