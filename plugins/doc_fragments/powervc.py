# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the PowerVC modules, which run powervc-image on the PowerVC host.
    DOCUMENTATION = r'''
options:
  rc_file:
    description:
      - Path, on the PowerVC host, of the PowerVC connection (resource) file that operators
        C(source) before running PowerVC's tools, with lines such as C(export OS_AUTH_URL=...).
      - The file is read, not run by a shell, and its C(export NAME=value) lines (quoted values and
        references to variables set earlier, such as C($OS_PROJECT_NAME), included) make the
        environment of C(powervc-image). Lines that need a shell, such as C($(...)), are skipped
        with a warning.
    type: path
    default: /opt/ibm/powervc/powervcrc
  username:
    description:
      - PowerVC user name.
      - If not set, the value of the E(OS_USERNAME) environment variable of the module is used,
        then C(OS_USERNAME) of O(rc_file).
    type: str
  password:
    description:
      - Password of the PowerVC user.
      - If not set, the value of the E(OS_PASSWORD) environment variable of the module is used,
        then C(OS_PASSWORD) of O(rc_file) (the modules never prompt for it).
      - It is passed to C(powervc-image) in the environment of that process only, never on a
        command line, never written to disk, never logged. Keep it in Ansible Vault.
    type: str
  project:
    description:
      - PowerVC project (OpenStack project) to work in; sets C(OS_PROJECT_NAME) and
        C(OS_TENANT_NAME).
      - If not set, the project of O(rc_file) is used.
    type: str
  cli_path:
    description:
      - The C(powervc-image) command; a name looked up on E(PATH) of the PowerVC host (then in
        C(/usr/bin), C(/usr/local/bin) and C(/opt/ibm/powervc/bin)), or a full path.
    type: str
    default: powervc-image
notes:
  - The modules of this family run on the PowerVC host itself (over SSH), with its
    C(/usr/bin/python3); they need only the Python standard library.
  - "All options of this fragment can be set once with
    C(module_defaults: group/vmimport.migrate.powervc:)."
'''
