#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: cos_object
short_description: Look at or delete one object in IBM Cloud Object Storage
version_added: 0.1.0
description:
  - With O(state=head), returns whether an object exists, and its size, ETag, metadata (including the
    C(sha256) stored by M(vmimport.migrate.cos_multipart_upload)) and last modification time. A missing
    object is not an error (RV(exists) is false).
  - With O(state=absent), deletes the object if it exists (idempotent).
  - A missing bucket or rejected credentials fail with a message that says so (not as a missing object).
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  bucket:
    description:
      - Name of the bucket (checked against the COS naming rules before any call).
    type: str
    required: true
  key:
    description:
      - Object key.
    type: str
    required: true
    aliases: [object]
  state:
    description:
      - V(head) only reads; V(absent) deletes the object.
    type: str
    choices: [head, absent]
    default: head
extends_documentation_fragment:
  - vmimport.migrate.cos
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - With O(state=absent), reports whether the object would be deleted.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
seealso:
  - module: vmimport.migrate.cos_multipart_upload
'''

EXAMPLES = r'''
- name: Check the uploaded image against its SHA-256
  vmimport.migrate.cos_object:
    region: us-south
    bucket: vmimport-images
    key: images/rhel9.ova
    access_key_id: "{{ cos_hmac_access_key_id }}"
    secret_access_key: "{{ cos_hmac_secret_access_key }}"
  register: obj
  failed_when: not obj.exists or obj.sha256 != export.sha256

- name: Delete the image once imported (keep_ova false)
  vmimport.migrate.cos_object:
    region: us-south
    bucket: vmimport-images
    key: images/rhel9.ova
    state: absent
    access_key_id: "{{ cos_hmac_access_key_id }}"
    secret_access_key: "{{ cos_hmac_secret_access_key }}"
'''

RETURN = r'''
exists:
  description: Whether the object exists (with O(state=absent), before this run).
  returned: always
  type: bool
  sample: true
size:
  description: Size in bytes.
  returned: when the object exists
  type: int
  sample: 17179869184
etag:
  description: ETag, without quotes.
  returned: when the object exists
  type: str
  sample: 0f343b0931126a20f133d67c2b018a3b-1024
sha256:
  description: The C(sha256) metadata, null when the object has none.
  returned: when the object exists
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
metadata:
  description: User metadata (C(x-amz-meta-*)), names in lower case.
  returned: when the object exists
  type: dict
  sample: {sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
last_modified:
  description: Last modification time (ISO 8601).
  returned: when the object exists
  type: str
  sample: '2026-01-10T08:15:02+00:00'
content_type:
  description: Content type.
  returned: when the object exists
  type: str
  sample: binary/octet-stream
'''

from ansible_collections.vmimport.migrate.plugins.module_utils.cos import (
    BotoCoreError,
    ClientError,
    CosModule,
    head_object,
)


def main():
    cos = CosModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            key=dict(type="str", required=True, aliases=["object"], no_log=False),
            state=dict(type="str", choices=["head", "absent"], default="head"),
        ),
        supports_check_mode=True,
    )
    bucket, key, state = cos.params["bucket"], cos.params["key"], cos.params["state"]
    client = cos.client()

    try:
        # a GET first: unlike HEAD, its errors say whether the bucket or the credentials are wrong
        client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        obj = head_object(client, bucket, key)
    except (ClientError, BotoCoreError) as e:
        cos.fail_from(e, "look up the object", bucket=bucket, key=key)

    result = dict(changed=False, exists=obj is not None)
    if obj is not None:
        result.update(size=obj["size"], etag=obj["etag"], sha256=obj["sha256"], metadata=obj["metadata"],
                      last_modified=obj["last_modified"], content_type=obj["content_type"])

    if state == "absent" and obj is not None:
        result["changed"] = True
        if not cos.check_mode:
            try:
                client.delete_object(Bucket=bucket, Key=key)
            except (ClientError, BotoCoreError) as e:
                cos.fail_from(e, "delete the object", bucket=bucket, key=key)
    cos.exit(**result)


if __name__ == "__main__":
    main()
