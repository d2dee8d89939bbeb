#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: pvs_image_import
short_description: Import an image from an IBM Cloud Object Storage bucket into a Power Virtual Server workspace
version_added: 0.1.0
description:
  - Starts a PowerVS image import job (C(POST /pcloud/v1/cloud-instances/{id}/cos-images)) that reads
    an OVA, tar or raw image from a COS bucket, and waits (optional) until the job is C(completed)
    or C(failed), polling with a backoff and treating every pending state (C(queued),
    C(readyForProcessing), C(inProgress), C(running), C(waiting)) as pending.
  - Then finds the new image by name (the newest one when several have it) and returns it.
  - Idempotent. An image with O(image_name) already in the workspace means no change. An import job
    of that image that is still running (started by an earlier run, or by a POST whose answer was
    lost) is waited on, not duplicated. PowerVS runs one import at a time per workspace; when another
    import is active, the module waits for it before starting its own (with O(wait=true)).
  - Requests that get HTTP 429 or 5xx are retried with backoff (honouring C(Retry-After)); a POST
    whose answer was lost is only sent again after checking that it started no job.
  - Errors carry the service's own text and say what to fix; a failed job fails the task with the
    job's C(status.message).
author:
  - vmimport.migrate contributors (@vmimport-migrate)
options:
  image_name:
    description:
      - Name of the new image in the workspace's boot image catalog.
      - This is what makes the task idempotent.
    type: str
    required: true
  bucket_name:
    description:
      - COS bucket holding the image, optionally with a folder, C(bucket-name[/optional/folder]).
      - The bucket name must follow the COS rules (3 to 63 lowercase letters, digits, C(-) and C(.)).
    type: str
    required: true
    aliases: [bucket]
  image_filename:
    description:
      - Name of the object in the bucket (or folder), for example C(rhel93.ova).
      - C(.ova), C(.ova.gz), C(.tar), C(.tar.gz) and C(.tgz) are imported as archives; any other name as a
        raw disk image, which needs O(os_type).
    type: str
    required: true
    aliases: [object]
  cos_region:
    description:
      - COS region of the bucket.
    type: str
    required: true
    choices: [us-east, us-south, eu-de, eu-gb, jp-tok, au-syd, br-sao, ca-tor, jp-osa, eu-es, che01]
  access_key:
    description:
      - COS HMAC access key ID (C(cos_hmac_keys.access_key_id) of a service credential) that PowerVS uses
        to read a private bucket.
      - It identifies the key and is not a secret (like an AWS access key ID); O(secret_key) is.
    type: str
  secret_key:
    description:
      - COS HMAC secret access key (C(cos_hmac_keys.secret_access_key)). Never logged; masked in the
        returned RV(body).
    type: str
  bucket_access:
    description:
      - Whether the bucket is public (no keys needed) or private (O(access_key) and O(secret_key) required).
    type: str
    choices: [public, private]
    default: private
  os_type:
    description:
      - Operating system of the image. Required for raw images; for OVAs PowerVS reads it from the OVF.
    type: str
    choices: [aix, ibmi, rhel, sles]
  storage_type:
    description:
      - Storage tier of the image volumes, for example C(tier1) or C(tier3). PowerVS defaults to C(tier3).
    type: str
  storage_pool:
    description:
      - Storage pool for the image volumes; when set, PowerVS ignores O(storage_affinity).
    type: str
  storage_affinity:
    description:
      - Storage pool selection by affinity with existing instances or volumes.
    type: dict
    suboptions:
      affinity_policy:
        description: C(affinity) or C(anti-affinity).
        type: str
        choices: [affinity, anti-affinity]
      affinity_pvm_instance:
        description: PVM instance whose storage pool is used (with C(affinity)).
        type: str
      affinity_volume:
        description: Volume whose storage pool is used (with C(affinity)).
        type: str
      anti_affinity_pvm_instances:
        description: PVM instances whose storage pools are avoided (with C(anti-affinity)).
        type: list
        elements: str
      anti_affinity_volumes:
        description: Volumes whose storage pools are avoided (with C(anti-affinity)).
        type: list
        elements: str
  import_details:
    description:
      - Licensing details of SAP images.
    type: dict
    suboptions:
      license_type:
        description: Origin of the license.
        type: str
        required: true
        choices: [byol]
      product:
        description: Product in the image.
        type: str
        required: true
        choices: [Hana, Netweaver]
      vendor:
        description: Vendor of the product.
        type: str
        required: true
        choices: [SAP]
  checksum:
    description:
      - Ask PowerVS to import and check the checksum file of the image.
      - Only on on-premises (Satellite) locations, whose zone contains C(satloc); refused elsewhere before any call.
    type: bool
  user_tags:
    description:
      - Tags for the new image.
    type: list
    elements: str
  wait:
    description:
      - Wait until the import job ends and return the image.
      - With V(false) the task returns as soon as the job is started, with RV(job.id); run the task again
        with O(wait=true) (or use C(async)/C(poll)) to wait for it; the running job is reused.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the job. Imports of large images can take hours and jobs can stay
        C(queued) for a long time.
      - When it passes, the task fails but the job goes on in PowerVS; running the task again waits on it.
    type: int
    default: 43200
  poll_interval:
    description:
      - Seconds before the first poll of the job; each next wait is 1.5 times longer, up to O(poll_max_interval).
    type: float
    default: 10
  poll_max_interval:
    description:
      - Longest wait between two polls of the job, in seconds.
    type: float
    default: 60
extends_documentation_fragment:
  - vmimport.migrate.powervs
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Lists images and the last import job (read-only calls), then reports C(changed=true) with the
        RV(body) it would post (secret masked) only when the image is absent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
seealso:
  - module: vmimport.migrate.pvs_image_info
  - module: vmimport.migrate.cos_multipart_upload
'''

EXAMPLES = r'''
- name: Import an OVA uploaded to COS into the workspace, waiting for the job
  vmimport.migrate.pvs_image_import:
    api_key: "{{ vault_ibmcloud_api_key }}"
    zone: lon04
    account_id: "{{ ibmcloud_account_id }}"
    cloud_instance_id: "{{ pvs_workspace_guid }}"
    image_name: rhel93-app
    bucket_name: vmimport-images
    image_filename: rhel93-app.ova
    cos_region: eu-gb
    access_key: "{{ cos_hmac_access_key_id }}"
    secret_key: "{{ vault_cos_hmac_secret_access_key }}"
    storage_type: tier1
  register: imported

- name: Show the new image ID
  ansible.builtin.debug:
    msg: "{{ imported.image.imageID }}"

- name: Start a long import and come back later (the second task waits on the same job)
  module_defaults:
    group/vmimport.migrate.powervs:
      api_key: "{{ vault_ibmcloud_api_key }}"
      crn: "crn:v1:bluemix:public:power-iaas:dal10:a/{{ ibmcloud_account_id }}:{{ pvs_workspace_guid }}::"
  block:
    - name: Start the import
      vmimport.migrate.pvs_image_import:
        image_name: aix73-base
        bucket_name: vmimport-images/aix
        image_filename: aix73-base.ova.gz
        cos_region: us-south
        access_key: "{{ cos_hmac_access_key_id }}"
        secret_key: "{{ vault_cos_hmac_secret_access_key }}"
        wait: false
      register: started

    - name: Wait for it in the background, checking every 5 minutes, for up to 10 hours
      vmimport.migrate.pvs_image_import:
        image_name: aix73-base
        bucket_name: vmimport-images/aix
        image_filename: aix73-base.ova.gz
        cos_region: us-south
        access_key: "{{ cos_hmac_access_key_id }}"
        secret_key: "{{ vault_cos_hmac_secret_access_key }}"
        wait_timeout: 36000
      async: 36600
      poll: 300

- name: Import a raw SLES image from a public bucket into a given storage pool
  vmimport.migrate.pvs_image_import:
    api_key: "{{ vault_ibmcloud_api_key }}"
    zone: eu-de-1
    account_id: "{{ ibmcloud_account_id }}"
    cloud_instance_id: "{{ pvs_workspace_guid }}"
    image_name: sles15-sp5
    bucket_name: public-images
    image_filename: sles15-sp5.raw
    bucket_access: public
    os_type: sles
    cos_region: eu-de
    storage_pool: Tier3-Flash-2
    user_tags: [migrated, sles]
'''

RETURN = r'''
image:
  description:
    - The image with O(image_name) (the newest when several have it), as C(GET .../images/{image_id}) returns it.
    - V(null) when the job was not waited for (O(wait=false)) or in check mode when absent.
  returned: always
  type: dict
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
      sample: ""
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
      description: Storage tier of the image volumes.
      type: str
      sample: tier3
    storagePool:
      description: Storage pool of the image volumes.
      type: str
      sample: Tier3-Flash-1
    specifications:
      description: C(architecture), C(containerFormat), C(diskFormat), C(endianness), C(hypervisorType),
        C(imageType), C(operatingSystem), C(sourceChecksum).
      type: dict
      sample: {"architecture": "ppc64", "operatingSystem": "rhel", "endianness": "big-endian"}
    size:
      description: Size of the image in GB.
      type: float
      sample: 20
    maxImageVolumeSize:
      description: Size of the largest volume of the image, in GB.
      type: float
    volumes:
      description: Volumes of the image (C(volumeID), C(name), C(size), C(bootable)).
      type: list
      elements: dict
    servers:
      description: Instances using the image.
      type: list
      elements: str
    userTags:
      description: Tags of the image.
      type: list
      elements: str
job:
  description:
    - The import job that was started, waited on or found, V(null) when the image was already there.
  returned: always
  type: dict
  contains:
    id:
      description: Job ID (C(GET .../jobs/{id})).
      type: str
      sample: 7d0b1f5c-58d1-4a7a-9b9e-2a3c4d5e6f70
    state:
      description: Last state seen (C(queued), C(readyForProcessing), C(inProgress), C(running), C(waiting),
        C(completed) or C(failed)).
      type: str
      sample: completed
    progress:
      description: Progress reported by PowerVS.
      type: str
      sample: 100%
    message:
      description: Status message (the reason of a failure).
      type: str
      sample: ""
    operation:
      description: C(action), C(id) and C(target) of the job's operation.
      type: dict
    create_timestamp:
      description: When the job was created.
      type: str
body:
  description:
    - The C(CreateCosImageImportJob) body posted (or that would be posted in check mode), C(secretKey) masked.
  returned: when an import was started or would be
  type: dict
  sample: {"imageName": "rhel93-app", "bucketName": "vmimport-images", "imageFilename": "rhel93-app.ova",
           "region": "eu-gb", "bucketAccess": "private", "accessKey": "0123abcd", "secretKey": "********"}
adopted:
  description:
    - V(true) when the task waited on a job that it did not start in this run (a re-run after a
      failure, or a POST whose answer was lost), instead of starting another.
  returned: always
  type: bool
states_seen:
  description: The job states seen while waiting, in order.
  returned: always
  type: list
  elements: str
  sample: [queued, readyForProcessing, inProgress, running, completed]
retries:
  description: How many requests were retried after HTTP 429/5xx or no answer.
  returned: always
  type: int
  sample: 0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vmimport.migrate.plugins.module_utils.powervs import (
    AFFINITY_POLICIES,
    BUCKET_ACCESS,
    COS_REGIONS,
    LICENSE_TYPES,
    OS_TYPES,
    POWERVS_REQUIRED_ONE_OF,
    PRODUCTS,
    VENDORS,
    CosImageImport,
    JobFailed,
    JobTimeout,
    PowerVSError,
    PowerVSValidationError,
    build_cos_import_body,
    client_from_module,
    job_state,
    mask_body,
    powervs_argument_spec,
    summarize_job,
)


def argument_spec():
    spec = powervs_argument_spec()
    spec.update(
        image_name=dict(type="str", required=True),
        bucket_name=dict(type="str", required=True, aliases=["bucket"]),
        image_filename=dict(type="str", required=True, aliases=["object"]),
        cos_region=dict(type="str", required=True, choices=list(COS_REGIONS)),
        access_key=dict(type="str", no_log=False),
        secret_key=dict(type="str", no_log=True),
        bucket_access=dict(type="str", choices=list(BUCKET_ACCESS), default="private"),
        os_type=dict(type="str", choices=list(OS_TYPES)),
        storage_type=dict(type="str"),
        storage_pool=dict(type="str"),
        storage_affinity=dict(type="dict", options=dict(
            affinity_policy=dict(type="str", choices=list(AFFINITY_POLICIES)),
            affinity_pvm_instance=dict(type="str"),
            affinity_volume=dict(type="str"),
            anti_affinity_pvm_instances=dict(type="list", elements="str"),
            anti_affinity_volumes=dict(type="list", elements="str"),
        )),
        import_details=dict(type="dict", options=dict(
            license_type=dict(type="str", required=True, choices=list(LICENSE_TYPES)),
            product=dict(type="str", required=True, choices=list(PRODUCTS)),
            vendor=dict(type="str", required=True, choices=list(VENDORS)),
        )),
        checksum=dict(type="bool"),
        user_tags=dict(type="list", elements="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=43200),
        poll_interval=dict(type="float", default=10.0),
        poll_max_interval=dict(type="float", default=60.0),
    )
    return spec


def failed_job_hint(message):
    low = (message or "").lower()
    if "access denied" in low or "accessdenied" in low or "signature" in low or "forbidden" in low:
        return ("check access_key and secret_key: PowerVS must be able to read the bucket with these HMAC keys "
                "(a service credential with HMAC keys and at least the Reader role)")
    if "not found" in low or "nosuch" in low:
        return "check bucket_name, image_filename and cos_region: PowerVS did not find the object there"
    return "see the job message; fix the cause and run the task again (the failed job is not reused)"


class ImageImporter(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.client = client_from_module(module)
        try:
            self.body, warnings = build_cos_import_body(self.p, self.client.conn["zone"])
        except PowerVSValidationError as e:
            module.fail_json(msg=str(e))
        for w in warnings:
            module.warn(w)
        if self.p["poll_interval"] <= 0 or self.p["poll_max_interval"] < self.p["poll_interval"]:
            module.fail_json(msg="poll_interval must be above 0 and poll_max_interval at least poll_interval (got %s and %s)"
                             % (self.p["poll_interval"], self.p["poll_max_interval"]))
        if self.p["wait_timeout"] < 0:
            module.fail_json(msg="wait_timeout must be 0 or more seconds (got %s)" % self.p["wait_timeout"])
        self.imp = CosImageImport(self.client, self.body, log=module.log)
        self.result = dict(changed=False, image=None, job=None, adopted=False, states_seen=[], retries=0)

    def exit(self, **kwargs):
        self.result.update(kwargs)
        self.result["retries"] = self.client.retried
        for w in self.imp.warnings:
            self.module.warn(w)
        self.module.exit_json(**self.result)

    def fail(self, msg, **kwargs):
        self.result.update(kwargs)
        self.result["retries"] = self.client.retried
        self.module.fail_json(msg=msg, **self.result)

    def _on_change(self, job):
        status = job.get("status") or {}
        self.module.log("PowerVS import job %s: %s %s" % (job.get("id"), status.get("state"), status.get("progress") or ""))

    def wait(self, job_id):
        return self.imp.wait(job_id, self.p["wait_timeout"], poll_start=self.p["poll_interval"],
                             poll_cap=self.p["poll_max_interval"], on_change=self._on_change)

    def wait_other(self, job):
        try:
            self.imp.wait_other(job["id"], self.p["wait_timeout"], poll_start=self.p["poll_interval"],
                                poll_cap=self.p["poll_max_interval"], on_change=self._on_change)
        except JobTimeout as e:
            self.fail("another image import job, %s, is still %s in workspace %s after wait_timeout=%ss; PowerVS runs "
                      "one import at a time: run the task again later" % (job["id"], job_state(e.job),
                                                                          self.client.cloud_instance_id, e.timeout),
                      job=summarize_job(e.job))

    def run(self):
        name = self.body["imageName"]
        image = self.imp.existing_image()
        if image:
            self.exit(image=self.imp.image_details(image), msg="image %s is already in the workspace" % name)

        job, ours = self.imp.active_job()
        if job and not ours:
            # another import occupies the workspace (PowerVS runs one at a time); it may also be ours
            # if the service does not name the image in the job: wait for it, then look again
            if self.module.check_mode:
                self.module.warn("import job %s is still %s in the workspace: the import would wait for it first"
                                 % (job["id"], job_state(job)))
                self.exit(changed=True, body=mask_body(self.body))
            if not self.p["wait"]:
                self.fail("another image import job, %s, is still %s in workspace %s and PowerVS runs one import "
                          "at a time: run again later, or with wait=true to wait for it first"
                          % (job["id"], job_state(job), self.client.cloud_instance_id),
                          job=summarize_job(job))
            self.wait_other(job)
            image = self.imp.existing_image()
            if image:
                self.exit(changed=True, adopted=True, job=summarize_job(job), image=self.imp.image_details(image))
            job = None

        if self.module.check_mode:
            self.exit(changed=True, body=mask_body(self.body), job=summarize_job(job),
                      msg="image %s would be imported" % name)

        posted = False
        if job:
            job_id, adopted = job["id"], True
        else:
            ref, adopted = self.imp.start()
            job_id, posted = ref["id"], True
        self.result["adopted"] = adopted
        if posted:
            self.result["body"] = mask_body(self.body)
        if not self.p["wait"]:
            self.exit(changed=posted, job=summarize_job(self.client.get_job(job_id)),
                      msg="import job %s of image %s started; not waiting" % (job_id, name))

        try:
            job, seen = self.wait(job_id)
        except JobFailed as e:
            message = (e.job.get("status") or {}).get("message") or "no message"
            hint = failed_job_hint(message)
            self.fail("PowerVS import job %s of image %s failed: %s. Fix: %s" % (job_id, name, message, hint),
                      changed=posted, job=summarize_job(e.job), states_seen=e.states_seen)
        except JobTimeout as e:
            self.fail("PowerVS import job %s of image %s is still %s after wait_timeout=%ss; it goes on in PowerVS: "
                      "run the task again to wait on it (it will not start another import)"
                      % (job_id, name, (e.job.get("status") or {}).get("state"), e.timeout),
                      changed=posted, job=summarize_job(e.job), states_seen=e.states_seen)
        image = self.imp.existing_image()
        if not image:
            self.fail("PowerVS import job %s completed but no image named %s is in the workspace; check the job with "
                      "GET /pcloud/v1/cloud-instances/%s/jobs/%s" % (job_id, name, self.client.cloud_instance_id, job_id),
                      changed=posted, job=summarize_job(job), states_seen=seen)
        self.exit(changed=True, job=summarize_job(job), states_seen=seen, image=self.imp.image_details(image),
                  msg="image %s imported" % name)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_one_of=POWERVS_REQUIRED_ONE_OF,
    )
    importer = ImageImporter(module)
    try:
        importer.run()
    except PowerVSError as e:
        importer.fail(str(e), status=e.status, api_error=e.api_text)


if __name__ == "__main__":
    main()
