#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pvs_image_info
short_description: List or get the images of a Power Virtual Server workspace
version_added: 0.1.0
description:
  - Lists the images of a PowerVS workspace's boot image catalog (C(GET .../images)), or gets the
    images with a given name or ID (C(GET .../images/{image_id})), newest first.
  - Image names are not unique in PowerVS; with O(name), every image with that name is returned and
    a warning says so when there are several.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  name:
    description:
      - Return only the images with this name, with their details.
      - Mutually exclusive with O(image_id).
    type: str
  image_id:
    description:
      - Return only the image with this ID, with its details (an empty list when there is none).
      - Mutually exclusive with O(name).
    type: str
  details:
    description:
      - When listing all images, also get each one's details (C(size), C(volumes), C(servers), C(userTags)...),
        one call per image. With O(name) or O(image_id) details are always returned.
    type: bool
    default: false
extends_documentation_fragment:
  - vmimport.migrate.powervs
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Read-only; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
seealso:
  - module: vmimport.migrate.pvs_image_import
'''

EXAMPLES = r'''
- name: List the images of a workspace
  vmimport.migrate.pvs_image_info:
    api_key: "{{ vault_ibmcloud_api_key }}"
    zone: lon04
    account_id: "{{ ibmcloud_account_id }}"
    cloud_instance_id: "{{ pvs_workspace_guid }}"
  register: catalog

- name: Get the images named rhel93-app (newest first)
  vmimport.migrate.pvs_image_info:
    api_key: "{{ vault_ibmcloud_api_key }}"
    crn: "crn:v1:bluemix:public:power-iaas:lon04:a/{{ ibmcloud_account_id }}:{{ pvs_workspace_guid }}::"
    name: rhel93-app
  register: found

- name: Fail when it is not there
  ansible.builtin.assert:
    that: found.images | length > 0
    fail_msg: image rhel93-app is not in the workspace
'''

RETURN = r'''
images:
  description:
    - The images, newest first. Listing without O(details) returns the C(ImageReference) fields; with
      O(name), O(image_id) or O(details) the C(Image) fields (which add C(size), C(maxImageVolumeSize),
      C(volumes), C(servers), C(userTags)).
  returned: always
  type: list
  elements: dict
  contains:
    imageID:
      description: Image ID.
      type: str
      sample: 3f9c0c3a-1c4e-4b8e-9b43-0d8a6b0f7c21
    name:
      description: Image name.
      type: str
      sample: rhel93-app
    state:
      description: Image state.
      type: str
      sample: active
    description:
      description: Description.
      type: str
    href:
      description: API link of the image.
      type: str
    creationDate:
      description: Creation time (ISO 8601).
      type: str
      sample: "2026-03-01T10:20:30.000Z"
    lastUpdateDate:
      description: Last update time (ISO 8601).
      type: str
    storageType:
      description: Storage tier.
      type: str
      sample: tier3
    storagePool:
      description: Storage pool.
      type: str
    specifications:
      description: C(architecture), C(containerFormat), C(diskFormat), C(endianness), C(hypervisorType),
        C(imageType), C(operatingSystem), C(sourceChecksum).
      type: dict
    size:
      description: Size in GB (with details).
      type: float
    maxImageVolumeSize:
      description: Size of the largest volume in GB (with details).
      type: float
    volumes:
      description: Volumes of the image (with details).
      type: list
      elements: dict
    servers:
      description: Instances using the image (with details).
      type: list
      elements: str
    userTags:
      description: Tags (with details).
      type: list
      elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmimport.migrate.plugins.module_utils.powervs import (
    POWERVS_REQUIRED_ONE_OF,
    PowerVSError,
    client_from_module,
    parse_timestamp,
    powervs_argument_spec,
    select_image,
)


def newest_first(images):
    return sorted(images, key=lambda i: (parse_timestamp(i.get("creationDate")), i.get("imageID") or ""), reverse=True)


def main():
    spec = powervs_argument_spec()
    spec.update(
        name=dict(type="str"),
        image_id=dict(type="str"),
        details=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           required_one_of=POWERVS_REQUIRED_ONE_OF,
                           mutually_exclusive=[("name", "image_id")])
    client = client_from_module(module)
    p = module.params
    try:
        if p["image_id"]:
            try:
                images = [client.get_image(p["image_id"])]
            except PowerVSError as e:
                if e.status != 404:
                    raise
                client.list_images()  # a 404 from a wrong workspace must not read as "no such image"
                images = []
        else:
            refs = client.list_images()
            if p["name"] is not None:
                _newest, refs, warning = select_image(refs, p["name"])
                if warning:
                    module.warn(warning)
            if p["name"] is not None or p["details"]:
                images = [client.get_image(r["imageID"]) for r in refs]
            else:
                images = refs
    except PowerVSError as e:
        module.fail_json(msg=str(e), status=e.status, api_error=e.api_text)
    module.exit_json(changed=False, images=newest_first(images))


if __name__ == "__main__":
    main()
