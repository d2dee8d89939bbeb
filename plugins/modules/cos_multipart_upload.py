#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: cos_multipart_upload
short_description: Upload a large file to IBM Cloud Object Storage, in parallel parts, resumable
version_added: 0.1.0
description:
  - Uploads O(src) to O(bucket)/O(key) with a multipart upload whose parts are sent in parallel, each with a
    C(Content-MD5) that COS checks (and a CRC32, see O(request_checksum_calculation)). The SHA-256 of the whole
    file is stored as the object metadata C(sha256) (C(x-amz-meta-sha256)).
  - Idempotent. When the object already has the size and the C(sha256) metadata of the file (or, for objects
    uploaded by other tools, the same ETag, recomputed from the file), nothing is sent and C(changed) is false.
  - Resumable. A run that finds an incomplete multipart upload of O(key) (left by an interrupted run, from any
    host) lists its parts, checks each one against the file (size, and MD5 against the ETag), sends only the
    missing ones and completes it. The part size of the upload being resumed is kept.
  - Memory does not grow with the file. The file is read in order into a pool of O(concurrency) + 1 buffers
    of O(part_size) bytes, whose MD5s (and CRC32s) are computed by the threads that send them (and the SHA-256
    along the same read when it is to be checked).
  - On an error (or C(SIGTERM)/C(SIGINT)) the upload is aborted, so that nothing is left behind, unless
    O(keep_on_failure=true), in which case its ID is returned and the next run resumes it.
  - Files not larger than one part are sent with one C(PUT) request.
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  bucket:
    description:
      - Name of the bucket. It is checked against the COS naming rules (3 to 63 characters, lowercase
        letters, digits, C(-) and C(.), not an IP address) before any call.
    type: str
    required: true
  key:
    description:
      - Object key (name) in the bucket.
    type: str
    required: true
    aliases: [object]
  src:
    description:
      - Path of the file to upload, on the host that runs the module.
    type: path
    required: true
  part_size:
    description:
      - Size of each part, in bytes or with a binary unit (V(8MiB), V(64M), V(1G)); 5 MiB to 5 GiB.
      - Parts grow automatically (C(ceil(size / 10000)) rounded up to a MiB) for files that would need
        more than 10,000 parts, i.e. above 78 GiB with the default.
    type: str
    default: 8MiB
  concurrency:
    description:
      - Number of parts sent at the same time (1 to 64).
      - Memory use is about (O(concurrency) + 1) x O(part_size), 72 MiB with the defaults; when parts grow for
        very large files, fewer are sent at once so that this does not grow.
    type: int
    default: 8
  sha256:
    description:
      - SHA-256 (hex) of O(src) when it is already known, for example from
        M(vmimport.migrate.powervc_image_export)'s result.
      - It is trusted, stored as the C(sha256) metadata without reading the file first, and compared with the
        object's metadata by the no-change check, so that a second run does not read the file. Set
        O(verify_sha256=true) to check the file against it while it is sent.
      - When not set, the module computes it, with one read of the file before a new upload (the metadata of
        a multipart upload is set when it starts), or along the upload when it resumes one.
    type: str
  verify_sha256:
    description:
      - With O(sha256), compute the SHA-256 of the file while it is sent (in the same read) and, on a
        mismatch, complete nothing and fail.
      - Costs about one CPU second per GiB, and no wall time when the network is the bottleneck.
    type: bool
    default: false
  metadata:
    description:
      - Extra user metadata of the object (C(x-amz-meta-*)). C(sha256) is always set by the module.
      - Only used when the object is uploaded; a change of metadata alone does not upload the file again.
    type: dict
  overwrite:
    description:
      - V(different) replaces an existing object only when it does not hold the file.
      - V(never) leaves any existing object alone; V(always) uploads even when the object holds the file.
    type: str
    choices: [different, never, always]
    default: different
  resume:
    description:
      - Whether to resume an incomplete multipart upload of O(key) whose parts match the file.
      - Incomplete uploads of O(key) that do not match the file (another version of it, another part size,
        no part at all) are aborted once the new upload has completed.
      - V(false) starts a new upload and leaves other incomplete uploads alone.
    type: bool
    default: true
  keep_on_failure:
    description:
      - On failure, keep the incomplete multipart upload so that the next run resumes it, and return its
        ID as RV(upload_id). By default it is aborted (COS bills the parts of incomplete uploads).
      - A killed process (C(SIGKILL), lost connection) cannot abort anything; the next run resumes its
        upload, or M(vmimport.migrate.cos_multipart_cleanup) removes it.
    type: bool
    default: false
  progress_file:
    description:
      - File to which one JSON line is appended per event (C(start), each C(part), C(complete)) with
        C(bytes_done), C(size), C(percent), C(parts_done), C(bytes_sent) and C(throughput), for example to
        follow an C(async) upload.
    type: path
extends_documentation_fragment:
  - vmimport.migrate.cos
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Predicts C(changed), whether an upload would be resumed (RV(resumed), RV(upload_id)) and
        RV(bytes_to_send); reads the file only when the no-change check needs its SHA-256.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
seealso:
  - module: vmimport.migrate.cos_multipart_cleanup
  - module: vmimport.migrate.cos_object
  - name: COS endpoints
    description: Endpoints and storage locations of IBM Cloud Object Storage.
    link: https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-endpoints
'''

EXAMPLES = r'''
- name: Upload an exported image with HMAC keys (resumes an interrupted upload)
  vmimport.migrate.cos_multipart_upload:
    region: us-south
    bucket: vmimport-images
    key: images/rhel9.ova
    src: /home/sessions/rhel9/rhel9.ova
    sha256: "{{ export.sha256 }}"
    access_key_id: "{{ cos_hmac_access_key_id }}"
    secret_access_key: "{{ cos_hmac_secret_access_key }}"
  register: upload

- name: Same upload from IBM Cloud with IAM, bigger parts, kept for a resume on failure
  vmimport.migrate.cos_multipart_upload:
    region: eu-de
    endpoint_type: private
    bucket: vmimport-images
    key: images/aix73.ova
    src: /home/sessions/aix73/aix73.ova
    api_key: "{{ ibmcloud_api_key }}"
    part_size: 64MiB
    concurrency: 8
    keep_on_failure: true
    progress_file: /home/sessions/aix73/upload.progress
  async: 14400
  poll: 30

- name: Credentials for every COS task of a play
  module_defaults:
    group/vmimport.migrate.cos:
      endpoint_url: "{{ cos_endpoint_url }}"
      access_key_id: "{{ cos_access_key_id }}"
      secret_access_key: "{{ cos_secret_access_key }}"
  block:
    - name: Upload
      vmimport.migrate.cos_multipart_upload:
        bucket: vmimport-images
        key: images/rhel9.ova
        src: /home/sessions/rhel9/rhel9.ova
'''

RETURN = r'''
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: vmimport-images
key:
  description: The object key.
  returned: always
  type: str
  sample: images/rhel9.ova
src:
  description: The local file.
  returned: always
  type: str
  sample: /home/sessions/rhel9/rhel9.ova
etag:
  description: ETag of the object, without quotes (C(<md5 of the part MD5s>-<parts>) for a multipart object).
  returned: success, not in check mode
  type: str
  sample: 0f343b0931126a20f133d67c2b018a3b-2048
size:
  description: Size of the file in bytes.
  returned: always
  type: int
  sample: 17179869184
sha256:
  description: SHA-256 of the file, as stored in the object's C(sha256) metadata.
  returned: success (in check mode only when known without reading the file)
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
parts:
  description: Number of parts of the object.
  returned: success
  type: int
  sample: 2048
part_size:
  description: Part size used (the one of a resumed upload, or the planned one).
  returned: always
  type: int
  sample: 8388608
bytes_sent:
  description: Bytes sent by this run (less than RV(size) when an upload was resumed, 0 when nothing changed).
  returned: always
  type: int
  sample: 8589934592
bytes_to_send:
  description: Bytes that would be sent.
  returned: check mode, when a change is predicted
  type: int
  sample: 8589934592
parts_sent:
  description: Parts sent by this run.
  returned: always
  type: int
  sample: 1024
resumed:
  description: Whether an incomplete upload was resumed (in check mode, would be).
  returned: always
  type: bool
  sample: true
seconds:
  description: Wall time of the task in seconds.
  returned: always
  type: float
  sample: 93.5
throughput:
  description: Bytes sent per second over the task (0 when nothing was sent).
  returned: always
  type: int
  sample: 183500800
upload_id:
  description:
    - ID of the multipart upload kept for a resume (on failure with O(keep_on_failure=true)), or of the upload
      that would be resumed (check mode). Null otherwise.
  returned: always
  type: str
  sample: 0100018c-3e2e-4b4e-a1b0-bd3a4e0f7c6a
aborted_uploads:
  description: IDs of incomplete uploads of the key aborted by this run (stale ones, or its own on failure).
  returned: always
  type: list
  elements: str
  sample: []
msg:
  description: What was done.
  returned: always
  type: str
  sample: uploaded /home/sessions/rhel9/rhel9.ova to 'vmimport-images/images/rhel9.ova' (resumed)
'''

import re
import signal

from ansible_collections.vmimport.migrate.plugins.module_utils.cos import (
    DEFAULT_CONCURRENCY,
    CosModule,
    UploadFailed,
    UploadTask,
    human_size,
    parse_size,
    MIN_PART_SIZE,
    MAX_PART_SIZE,
)


def _interrupted(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def main():
    cos = CosModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            key=dict(type="str", required=True, aliases=["object"], no_log=False),
            src=dict(type="path", required=True),
            part_size=dict(type="str", default="8MiB"),
            concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
            sha256=dict(type="str"),
            verify_sha256=dict(type="bool", default=False),
            metadata=dict(type="dict"),
            overwrite=dict(type="str", choices=["different", "never", "always"], default="different"),
            resume=dict(type="bool", default=True),
            keep_on_failure=dict(type="bool", default=False),
            progress_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = cos.params

    try:
        part_size = parse_size(p["part_size"])
    except ValueError as e:
        cos.fail("part_size: %s" % e)
    if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        cos.fail("part_size must be between 5 MiB and 5 GiB, got %s" % human_size(part_size))
    if not 1 <= p["concurrency"] <= 64:
        cos.fail("concurrency must be between 1 and 64, got %d" % p["concurrency"])
    if p["sha256"] and not re.match(r"^[0-9a-fA-F]{64}$", p["sha256"]):
        cos.fail("sha256 must be 64 hexadecimal digits, got %r" % p["sha256"])

    signal.signal(signal.SIGTERM, _interrupted)
    task = UploadTask(
        cos.client(max_pool_connections=p["concurrency"] + 2),
        p["bucket"], p["key"], p["src"],
        part_size=part_size,
        concurrency=p["concurrency"],
        sha256=p["sha256"],
        verify_sha256=p["verify_sha256"],
        metadata=p["metadata"],
        overwrite=p["overwrite"],
        resume=p["resume"],
        keep_on_failure=p["keep_on_failure"],
        progress_file=p["progress_file"],
        endpoint=cos.endpoint,
        warn=cos.module.warn,
        crc32=p["request_checksum_calculation"] == "when_supported",
    )
    try:
        result = task.run(check_mode=cos.check_mode)
    except UploadFailed as e:
        cos.fail(e.msg, **e.result)
    except KeyboardInterrupt as e:
        cos.fail("upload of %s interrupted (%s) before any upload was started; nothing to clean up"
                 % (p["src"], e or "SIGINT"))
    cos.exit(**result)


if __name__ == "__main__":
    main()
