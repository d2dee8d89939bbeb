# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection and authentication options of the IBM Cloud Object Storage modules
    # (plugins/module_utils/cos.py COS_ARGUMENT_SPEC).
    DOCUMENTATION = r'''
options:
  endpoint_url:
    description:
      - URL of the COS S3 endpoint, for example V(https://s3.us-south.cloud-object-storage.appdomain.cloud)
        or any S3-compatible endpoint.
      - When not set, the endpoint is derived from O(region) and O(endpoint_type).
      - The E(COS_ENDPOINT_URL) or E(COS_ENDPOINT) environment variable is used when the option is not set.
    type: str
    aliases: [endpoint]
  region:
    description:
      - COS region or location of the bucket, for example V(us-south), V(eu-de), V(us) (cross region)
        or V(ams03) (single data center).
      - Without O(endpoint_url) it selects the endpoint
        C(https://s3.<region>.cloud-object-storage.appdomain.cloud) (public), C(s3.private.<region>...)
        or C(s3.direct.<region>...); an unknown region is refused before any call (give O(endpoint_url)
        for a location this collection does not know yet).
      - With O(endpoint_url) it is only the region name used to sign requests.
      - The E(COS_REGION) environment variable is used when the option is not set.
    type: str
  endpoint_type:
    description:
      - Which endpoint of O(region) to use when O(endpoint_url) is not set.
      - V(private) from IBM Cloud classic infrastructure (Power Virtual Server included), V(direct) from a VPC.
    type: str
    choices: [public, private, direct]
    default: public
  access_key_id:
    description:
      - HMAC access key ID (C(cos_hmac_keys.access_key_id) of a service credential created with
        "Include HMAC Credential"). Requests are signed with AWS Signature Version 4.
      - Used with O(secret_access_key); HMAC keys win over O(api_key) when both are set.
      - The E(COS_HMAC_ACCESS_KEY_ID) or E(AWS_ACCESS_KEY_ID) environment variable is used when the
        option is not set.
    type: str
    aliases: [hmac_access_key_id]
  secret_access_key:
    description:
      - HMAC secret access key (C(cos_hmac_keys.secret_access_key)). Never logged.
      - The E(COS_HMAC_SECRET_ACCESS_KEY) or E(AWS_SECRET_ACCESS_KEY) environment variable is used when
        the option is not set.
    type: str
    aliases: [hmac_secret_access_key]
  api_key:
    description:
      - IBM Cloud API key (IAM authentication); the SDK exchanges it for bearer tokens and refreshes them.
        Never logged.
      - The E(COS_API_KEY), E(IBMCLOUD_API_KEY) or E(IC_API_KEY) environment variable is used when the
        option is not set.
    type: str
    aliases: [ibm_api_key_id]
  service_instance_id:
    description:
      - CRN or GUID of the COS service instance. Only needed by calls that list or create buckets; object
        and upload calls do not need it.
      - The E(COS_SERVICE_INSTANCE_ID) environment variable is used when the option is not set.
    type: str
    aliases: [ibm_service_instance_id]
  auth_endpoint:
    description:
      - IAM token URL, to replace the default V(https://iam.cloud.ibm.com/identity/token)
        (private IAM endpoints, tests).
      - The E(COS_AUTH_ENDPOINT) or E(IBMCLOUD_IAM_ENDPOINT) environment variable is used when the option
        is not set.
    type: str
    aliases: [ibm_auth_endpoint]
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the endpoint. Only set to V(false) for test endpoints.
      - The E(COS_VALIDATE_CERTS) environment variable is used when the option is not set.
    type: bool
    default: true
  ca_bundle:
    description:
      - Path of a CA bundle to verify the endpoint's certificate with (instead of the system's).
      - The E(COS_CA_BUNDLE) environment variable is used when the option is not set.
    type: path
  addressing_style:
    description:
      - V(path) puts the bucket in the URL path (C(https://endpoint/bucket/key)), which works with every
        COS endpoint and with IP addresses; V(virtual) puts it in the host name.
    type: str
    choices: [path, virtual, auto]
    default: path
  request_checksum_calculation:
    description:
      - Whether the S3 flexible checksums (CRC32) are sent on top of the C(Content-MD5) that the modules send
        with every part and object, which every S3 server checks.
      - V(when_supported) (the default, as in ibm-cos-sdk 2.15 and later) declares CRC32 when a multipart
        upload is started, and sends the CRC32 of each part (computed in the same read as its MD5) and in the
        completion.
      - V(when_required) sends none, for S3 servers that reject these headers. Keep the same value between a
        run and the run that resumes it.
      - Also passed to the SDK for the other calls (ibm-cos-sdk 2.15 and later; older ones ignore it).
    type: str
    choices: [when_required, when_supported]
    default: when_supported
  retries:
    description:
      - Attempts per request (the SDK's C(standard) retry mode, with exponential backoff) on throttling,
        5xx answers and connection errors. A part is sent again as a whole.
    type: int
    default: 8
  timeout:
    description:
      - Seconds to wait for COS on each request (read timeout, and the time to send one part);
        the connect timeout is the smaller of this and 60.
    type: int
    default: 300
requirements:
  - python >= 3.8
  - ibm-cos-sdk >= 2.13 (C(ibm_boto3)) on the host that runs the module
notes:
  - Credentials come from the options or the environment variables named above; nothing is written
    to disk. Either the HMAC pair or O(api_key) is required.
  - Over plain C(http://) endpoints the body of each part is not SHA-256 signed (it carries a
    C(Content-MD5) checked by the server), as the SDK already does over HTTPS.
'''
