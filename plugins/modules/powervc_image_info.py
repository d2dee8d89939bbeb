#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: powervc_image_info
short_description: List the images of IBM PowerVC with powervc-image
version_added: 0.1.0
description:
  - Runs C(powervc-image list) on the PowerVC host, with the environment of the PowerVC rc file
    and the credentials of the module options, and returns the images as data.
  - Filters by image name or ID.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
extends_documentation_fragment:
  - vmimport.migrate.powervc
options:
  image:
    description:
      - Return only the images whose ID or name equals this value.
      - Without it, every image is returned.
    type: str
    aliases: [name, id]
  exportable:
    description:
      - Return only the images whose C(Exportable) column is this value.
    type: bool
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details:
      - Runs on the PowerVC host, where C(powervc-image) is installed.
seealso:
  - module: vmimport.migrate.powervc_image_export
'''

EXAMPLES = r'''
- name: List every image of PowerVC
  vmimport.migrate.powervc_image_info:
    rc_file: /opt/ibm/powervc/powervcrc
    username: "{{ powervc_username }}"
    password: "{{ powervc_password }}"
  register: powervc_images

- name: Look one image up by name (or ID)
  vmimport.migrate.powervc_image_info:
    image: rhel83-golden
    password: "{{ powervc_password }}"
  register: golden

- name: Fail early when the image cannot be exported
  ansible.builtin.assert:
    that:
      - golden.images | length == 1
      - golden.images[0].exportable
    fail_msg: rhel83-golden is missing or not exportable

- name: Only the exportable images, with the credentials set once for the group
  module_defaults:
    group/vmimport.migrate.powervc:
      username: "{{ powervc_username }}"
      password: "{{ powervc_password }}"
  vmimport.migrate.powervc_image_info:
    exportable: true
'''

RETURN = r'''
images:
  description: The images of PowerVC (after the filters), in the order of C(powervc-image list).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Image name.
      type: str
      sample: rhel83-golden
    id:
      description: Image ID.
      type: str
      sample: 0a5c8d7e-63b1-4c3e-9d51-6e4f3b2a9c01
    status:
      description: Image status (C(active) when it can be deployed or exported).
      type: str
      sample: active
    volumes:
      description: Number of volumes of the image.
      type: int
      sample: 1
    size:
      description: Size of the image in GB (PowerVC's GB of volume capacity, that is GiB).
      type: float
      sample: 20
    description:
      description: Image description (empty when there is none).
      type: str
      sample: RHEL 8.3 golden image
    architecture:
      description: Architecture.
      type: str
      sample: ppc64
    os_distro:
      description: Operating system distribution.
      type: str
      sample: rhel
    exportable:
      description: Whether PowerVC can export the image to an OVA.
      type: bool
      sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmimport.migrate.plugins.module_utils.powervc import (
    PowerVCError,
    client_from_module,
    filter_images,
    powervc_argument_spec,
    public_image,
)


def main():
    argument_spec = powervc_argument_spec()
    argument_spec.update(
        image=dict(type="str", aliases=["name", "id"]),
        exportable=dict(type="bool"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        cli = client_from_module(module)
        images = filter_images(cli.list_images(), module.params["image"])
    except PowerVCError as e:
        module.fail_json(msg=e.msg, **e.extra)

    if module.params["exportable"] is not None:
        images = [i for i in images if i.get("exportable") is module.params["exportable"]]
    module.exit_json(changed=False, images=[public_image(i) for i in images])


if __name__ == "__main__":
    main()
