# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of the IBM Power Virtual Server (PowerVS, "pcloud") modules.
    DOCUMENTATION = r'''
options:
  api_key:
    description:
      - IBM Cloud API key used to get an IAM token (the token is refreshed before it expires).
      - If not set, the value of the E(IBMCLOUD_API_KEY) or E(IC_API_KEY) environment variable is used.
      - Keep it in Ansible Vault; it is never logged.
    type: str
    required: true
  iam_url:
    description:
      - Base URL of the IBM Cloud IAM service; the token is requested from C(<iam_url>/identity/token).
      - A full token URL ending in C(/identity/token) is accepted too.
    type: str
    default: https://iam.cloud.ibm.com
  zone:
    description:
      - Zone (datacenter) of the workspace, for example C(lon04), C(dal10) or C(eu-de-1).
      - It is part of the C(CRN) header and gives the regional endpoint (C(lon04) -> C(lon)).
      - Required unless O(crn) is set, in which case it is read from the CRN.
    type: str
  cloud_instance_id:
    description:
      - GUID of the Power Virtual Server workspace (cloud instance).
      - Required unless O(crn) is set, in which case it is read from the CRN.
    type: str
    aliases: [workspace_id]
  account_id:
    description:
      - IBM Cloud account ID that owns the workspace; used to build the C(CRN) header
        C(crn:v1:bluemix:public:power-iaas:<zone>:a/<account_id>:<cloud_instance_id>::).
      - One of O(account_id) or O(crn) is required.
    type: str
  crn:
    description:
      - Full CRN of the workspace, sent as the C(CRN) header instead of one built from O(zone),
        O(account_id) and O(cloud_instance_id).
      - When O(zone) or O(cloud_instance_id) are set too, they must agree with it.
    type: str
  endpoint_url:
    description:
      - URL of the PowerVS API.
      - Default C(https://<region>.power-iaas.cloud.ibm.com), the region being the zone without its
        trailing digits (C(lon04) -> C(lon), C(eu-de-1) -> C(eu-de)); with O(private_endpoint),
        C(https://private.<region>.power-iaas.cloud.ibm.com).
    type: str
  private_endpoint:
    description:
      - Use the private endpoint of the region when O(endpoint_url) is not set.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the TLS certificates of IAM and of the PowerVS endpoint.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for one HTTP answer.
    type: int
    default: 60
  retries:
    description:
      - How many times a request that got HTTP 429 or 5xx (or no answer) is retried, with exponential
        backoff that honours C(Retry-After).
      - A C(POST) that may have been processed (500, 502, 504, or no answer) is only sent again after
        checking that no import job for it was started.
    type: int
    default: 5
requirements:
  - python >= 3.8
  - ibm-cloud-sdk-core
  - requests
notes:
  - These modules talk HTTPS to IAM and to the PowerVS endpoint; they usually run on the controller
    (a play on C(localhost)), which needs the requirements installed.
  - "All options of this fragment can be set once with C(module_defaults) and the
    C(group/vmimport.migrate.powervs) action group."
'''
