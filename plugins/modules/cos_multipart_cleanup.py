#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: cos_multipart_cleanup
short_description: Abort incomplete multipart uploads in an IBM Cloud Object Storage bucket
version_added: 0.1.0
description:
  - Lists the incomplete multipart uploads of a bucket (those of one O(key), or all under a O(prefix)), keeps
    those older than O(older_than), and aborts them. Their parts are then deleted by COS.
  - Incomplete uploads are invisible in the console and billed; an interrupted upload (a killed process, a
    failed run that kept its upload for a resume) leaves one behind.
  - In check mode it only lists what it would abort.
  - A bucket lifecycle rule C(AbortIncompleteMultipartUpload) does the same after the fact, in days.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  bucket:
    description:
      - Name of the bucket (checked against the COS naming rules before any call).
    type: str
    required: true
  prefix:
    description:
      - Only uploads whose key starts with this prefix. The default, the empty string, means every upload
        of the bucket.
    type: str
    default: ''
  key:
    description:
      - Only uploads of exactly this key (for example the object of a failed image import).
      - Mutually exclusive with O(prefix).
    type: str
  older_than:
    description:
      - Only uploads started at least this long ago, as seconds or with a unit
        (V(90s), V(30m), V(2h), V(1d), V(1w), V(1d12h)), so that uploads in progress can be spared.
      - The default V(0) takes every upload, whatever its age.
    type: str
    default: '0'
extends_documentation_fragment:
  - vmimport.migrate.cos
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Lists the uploads that would be aborted; aborts nothing.
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
- name: Abort every incomplete upload older than one day
  vmimport.migrate.cos_multipart_cleanup:
    region: us-south
    bucket: vmimport-images
    older_than: 1d
    access_key_id: "{{ cos_hmac_access_key_id }}"
    secret_access_key: "{{ cos_hmac_secret_access_key }}"
  register: cleanup

- name: After a failed import, drop the upload that was kept for a resume
  vmimport.migrate.cos_multipart_cleanup:
    endpoint_url: "{{ cos_endpoint_url }}"
    bucket: vmimport-images
    key: images/rhel9.ova
    api_key: "{{ ibmcloud_api_key }}"

- name: See what is pending under a prefix, without aborting anything
  vmimport.migrate.cos_multipart_cleanup:
    region: eu-de
    bucket: vmimport-images
    prefix: images/
    access_key_id: "{{ cos_hmac_access_key_id }}"
    secret_access_key: "{{ cos_hmac_secret_access_key }}"
  check_mode: true
  register: pending
'''

RETURN = r'''
uploads:
  description: The incomplete uploads that matched (aborted, or that would be in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: Object key of the upload.
      type: str
      sample: images/rhel9.ova
    upload_id:
      description: Upload ID.
      type: str
      sample: 0100018c-3e2e-4b4e-a1b0-bd3a4e0f7c6a
    initiated:
      description: When the upload was started (ISO 8601).
      type: str
      sample: '2026-01-10T08:15:02+00:00'
    age_seconds:
      description: Age of the upload in seconds.
      type: int
      sample: 93600
    aborted:
      description: Whether this run aborted it (false in check mode and for an upload that vanished meanwhile).
      type: bool
      sample: true
  sample:
    - key: images/rhel9.ova
      upload_id: 0100018c-3e2e-4b4e-a1b0-bd3a4e0f7c6a
      initiated: '2026-01-10T08:15:02+00:00'
      age_seconds: 93600
      aborted: true
aborted:
  description: Number of uploads aborted.
  returned: always
  type: int
  sample: 1
skipped:
  description: Number of uploads under the prefix (or of the key) spared because they are younger than O(older_than).
  returned: always
  type: int
  sample: 0
'''

from ansible_collections.vmimport.migrate.plugins.module_utils.cos import (
    BotoCoreError,
    ClientError,
    CosModule,
    age_seconds,
    error_code,
    list_uploads,
    parse_age,
)


def main():
    cos = CosModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            prefix=dict(type="str", default=""),
            key=dict(type="str", no_log=False),
            older_than=dict(type="str", default="0"),
        ),
        mutually_exclusive=[("prefix", "key")],
        supports_check_mode=True,
    )
    p = cos.params
    try:
        min_age = parse_age(p["older_than"])
    except ValueError as e:
        cos.fail("older_than: %s" % e)
    bucket = p["bucket"]
    prefix = p["key"] if p["key"] is not None else p["prefix"]
    client = cos.client()

    try:
        uploads = list_uploads(client, bucket, prefix=prefix, exact_key=p["key"])
    except (ClientError, BotoCoreError) as e:
        cos.fail_from(e, "list the incomplete uploads", bucket=bucket)

    matched, skipped = [], 0
    for u in uploads:
        age = age_seconds(u.get("Initiated"))
        if age is not None and age < min_age:
            skipped += 1
            continue
        initiated = u.get("Initiated")
        matched.append(dict(key=u["Key"], upload_id=u["UploadId"], age_seconds=age, aborted=False,
                            initiated=initiated.isoformat() if hasattr(initiated, "isoformat") else initiated))

    aborted = 0
    if not cos.check_mode:
        for item in matched:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=item["key"], UploadId=item["upload_id"])
            except (ClientError, BotoCoreError) as e:
                if error_code(e) == "NoSuchUpload":  # completed or aborted meanwhile
                    continue
                cos.fail_from(e, "abort upload %s" % item["upload_id"], bucket=bucket, key=item["key"],
                              uploads=matched, aborted=aborted, skipped=skipped, changed=aborted > 0)
            item["aborted"] = True
            aborted += 1

    changed = bool(matched) if cos.check_mode else aborted > 0
    cos.exit(changed=changed, uploads=matched, aborted=aborted, skipped=skipped)


if __name__ == "__main__":
    main()
