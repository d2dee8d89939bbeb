#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: powervc_image_export
short_description: Export an IBM PowerVC image to an OVA file, with its SHA-256, resumably
version_added: 0.1.0
description:
  - Exports one PowerVC image (by name or ID) to an OVA file on the PowerVC host with
    C(powervc-image export), run with the environment of the PowerVC rc file and the credentials
    of the module options.
  - "Preflight, before anything is written: the image exists, is exportable and active, and the
    free space of the destination covers the image size plus a margin (the error names both
    numbers)."
  - The OVA is written under a temporary name in the destination directory and renamed when the
    export succeeded; a failed export removes it. A SHA-256 file in C(sha256sum) format is written
    next to the OVA (C(<path>.sha256)).
  - Idempotent and resumable. An OVA already there that matches its C(.sha256) is kept and nothing
    changes. An OVA without a matching checksum (an export that was interrupted) is removed and the
    image exported again.
  - Exports of big images take minutes to hours; use C(async) with C(poll) for long ones.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
extends_documentation_fragment:
  - vmimport.migrate.powervc
options:
  image:
    description:
      - Name or ID of the image. An ID is looked up first; a name must be unique.
    type: str
    required: true
    aliases: [name]
  session_dir:
    description:
      - Directory that receives the OVA, named C(<image name>.ova) (characters other than letters,
        digits, C(-), C(_) and C(.) in the name become C(_)).
      - Created (mode C(0750)) when missing.
      - Exactly one of O(session_dir) and O(path) is required.
    type: path
  path:
    description:
      - Full path of the OVA file to write, instead of O(session_dir).
      - Its directory is created (mode C(0750)) when missing.
    type: path
    aliases: [dest]
  check_free_space:
    description:
      - Check, before exporting, that the destination's filesystem has the image size plus the
        margin (O(free_space_margin_percent) and O(free_space_margin_mib)) free.
      - Space taken by a partial export that will be replaced counts as free.
    type: bool
    default: true
  free_space_margin_percent:
    description:
      - Free space needed beyond the image size, in percent of the image size.
      - "Default 5 %, plus O(free_space_margin_mib): the OVA holds the full volumes, the C(Size)
        column is in whole GB, and the filesystem meanwhile gets PowerVC's logs and other writers'
        data; a percentage keeps that headroom proportional for big images, where a few GB of
        other writes during an hour-long export are usual."
    type: float
    default: 5.0
  free_space_margin_mib:
    description:
      - Free space needed beyond the image size and O(free_space_margin_percent), in MiB.
      - "Default 1024 (1 GiB): the PowerVC documentation asks for G+1 GB for a G GB image (the
        session's other files stay under 5 MB, the upload virtualenv under 100 MB), and small images
        need an absolute floor. For a 20 GB image the default asks for 22 GiB."
    type: int
    default: 1024
  force:
    description:
      - Export again even when a complete OVA matching its checksum is already there.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The preflight runs (the image is looked up, free space is checked); nothing is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details:
      - Runs on the PowerVC host, where C(powervc-image) is installed.
notes:
  - The SHA-256 is computed by reading the OVA once after the export (about 0.5 to 1.5 GB/s); checking
    an existing OVA reads it once too.
seealso:
  - module: vmimport.migrate.powervc_image_info
  - module: vmimport.migrate.cos_multipart_upload
'''

EXAMPLES = r'''
- name: Export an image into the session directory
  vmimport.migrate.powervc_image_export:
    image: rhel83-golden
    session_dir: /home/sessions/import-rhel83
    username: "{{ powervc_username }}"
    password: "{{ powervc_password }}"
  register: ova

- name: Show where it is
  ansible.builtin.debug:
    msg: "{{ ova.path }} ({{ ova.size }} bytes, sha256 {{ ova.sha256 }})"

- name: Export a big image by ID to a given file, in the background
  vmimport.migrate.powervc_image_export:
    image: 0a5c8d7e-63b1-4c3e-9d51-6e4f3b2a9c01
    path: /srv/exports/aix72.ova
    rc_file: /home/powervc/powervcrc
    password: "{{ powervc_password }}"
    free_space_margin_percent: 10
  async: 14400
  poll: 30

- name: Only run the preflight (image exportable, enough free space)
  vmimport.migrate.powervc_image_export:
    image: rhel83-golden
    session_dir: /home/sessions/import-rhel83
    password: "{{ powervc_password }}"
  check_mode: true
'''

RETURN = r'''
path:
  description: Path of the OVA file.
  returned: always
  type: str
  sample: /home/sessions/import-rhel83/rhel83-golden.ova
checksum_path:
  description: Path of the SHA-256 file (C(sha256sum -c) format) next to the OVA.
  returned: always
  type: str
  sample: /home/sessions/import-rhel83/rhel83-golden.ova.sha256
size:
  description: Size of the OVA in bytes (null in check mode when it would be exported).
  returned: always
  type: int
  sample: 21474847744
sha256:
  description: SHA-256 of the OVA, hexadecimal (null in check mode when it would be exported).
  returned: always
  type: str
  sample: 3b1f0c4e7a0e5d52b1c6e53c7d9d0c3e6f8d1b2a4c5e6f708192a3b4c5d6e7f8
exported:
  description: Whether the image was (or, in check mode, would be) exported in this run.
  returned: always
  type: bool
  sample: true
removed_partial:
  description: Whether an earlier, incomplete export was found and removed (or would be).
  returned: always
  type: bool
  sample: false
image:
  description: The image, as M(vmimport.migrate.powervc_image_info) returns it.
  returned: always
  type: dict
  sample: {"name": "rhel83-golden", "id": "0a5c8d7e-63b1-4c3e-9d51-6e4f3b2a9c01", "status": "active",
           "volumes": 1, "size": 20, "description": "", "architecture": "ppc64", "os_distro": "rhel",
           "exportable": true}
required_bytes:
  description: Free bytes the preflight asked for (null when the check was off or not needed).
  returned: always
  type: int
  sample: 23622320128
free_bytes:
  description: Free bytes of the destination's filesystem at the preflight.
  returned: always
  type: int
  sample: 107374182400
seconds:
  description: Seconds the export took (0 when nothing was exported).
  returned: always
  type: float
  sample: 412.5
output:
  description: What C(powervc-image export) printed (empty when nothing was exported).
  returned: always
  type: str
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmimport.migrate.plugins.module_utils.powervc import (
    PowerVCError,
    check_exportable,
    check_free_space,
    checksum_path,
    client_from_module,
    disk_usage,
    existing_export,
    find_image,
    free_bytes,
    ova_first_member,
    partial_path,
    powervc_argument_spec,
    public_image,
    remove_quietly,
    safe_filename,
    sha256_file,
    write_checksum,
)


def ova_path(params, image):
    if params["path"]:
        return os.path.abspath(params["path"])
    return os.path.join(os.path.abspath(params["session_dir"]), "%s.ova" % safe_filename(image["name"]))


def export(cli, image, path, result):
    """Export to a temporary name, check it is an OVA, checksum it, rename it into place."""
    tmp = partial_path(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o750)
        except OSError as e:
            raise PowerVCError("cannot create the directory %s for the OVA: %s" % (directory, e.strerror or e))
    for stale in (tmp, path, checksum_path(path)):
        remove_quietly(stale)
    started = time.time()
    try:
        result["output"] = cli.export(image["id"], tmp)
        if not os.path.isfile(tmp):
            raise PowerVCError("powervc-image export of image '%s' succeeded but wrote no file at %s"
                               % (image["name"], tmp))
        first = ova_first_member(tmp)
        if not first or not first.lower().endswith(".ovf"):
            raise PowerVCError("powervc-image export of image '%s' did not produce an OVA (a tar archive that "
                               "starts with an .ovf descriptor); first member: %s" % (image["name"], first))
        digest = sha256_file(tmp)
        write_checksum(checksum_path(path), digest, os.path.basename(path))
        os.rename(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    result.update(sha256=digest, size=os.path.getsize(path), seconds=round(time.time() - started, 3))


def main():
    argument_spec = powervc_argument_spec()
    argument_spec.update(
        image=dict(type="str", required=True, aliases=["name"]),
        session_dir=dict(type="path"),
        path=dict(type="path", aliases=["dest"]),
        check_free_space=dict(type="bool", default=True),
        free_space_margin_percent=dict(type="float", default=5.0),
        free_space_margin_mib=dict(type="int", default=1024),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("session_dir", "path")],
        required_one_of=[("session_dir", "path")],
        supports_check_mode=True,
    )
    p = module.params
    if p["free_space_margin_percent"] < 0 or p["free_space_margin_mib"] < 0:
        module.fail_json(msg="free_space_margin_percent and free_space_margin_mib must not be negative")

    result = dict(changed=False, exported=False, removed_partial=False, sha256=None, size=None,
                  required_bytes=None, free_bytes=None, seconds=0, output="")
    try:
        cli = client_from_module(module)
        image = find_image(cli.list_images(), p["image"])
        path = ova_path(p, image)
        result.update(image=public_image(image), path=path, checksum_path=checksum_path(path))

        state, digest = existing_export(path)
        if state == "complete" and not p["force"]:
            result.update(sha256=digest, size=os.path.getsize(path))
            module.exit_json(**result)

        check_exportable(image)
        directory = os.path.dirname(path)
        tmp = partial_path(path)
        # what a new export replaces is given back first
        available = free_bytes(directory) + disk_usage(path) + disk_usage(tmp)
        result["free_bytes"] = available
        if p["check_free_space"]:
            result["required_bytes"] = check_free_space(image, directory, available,
                                                        p["free_space_margin_percent"], p["free_space_margin_mib"])

        result.update(changed=True, exported=True, removed_partial=(state == "partial"))
        if module.check_mode:
            module.exit_json(**result)
        export(cli, image, path, result)
    except PowerVCError as e:
        result.update(e.extra)
        result.pop("changed", None)
        module.fail_json(msg=e.msg, **result)
    except (IOError, OSError) as e:
        module.fail_json(msg="export of PowerVC image '%s' failed: %s" % (p["image"], e), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
