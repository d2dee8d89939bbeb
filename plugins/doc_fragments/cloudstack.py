# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options of the CloudStack modules (module_utils/cloudstack.py)
    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - URL of the CloudStack API, for example C(https://cloud.example.com/client/api).
      - If not set, the E(CLOUDSTACK_ENDPOINT) environment variable is used.
    type: str
  api_key:
    description:
      - API key of the CloudStack user (a root admin for listing and importing unmanaged VMs).
      - If not set, the E(CLOUDSTACK_KEY) environment variable is used.
      - The API key and the secret key are one credential pair, so the key is kept out of logs
        and output too (C(no_log)), unlike ngine_io.cloudstack which shows it.
    type: str
  api_secret:
    description:
      - Secret key of the CloudStack user; requests are signed with it (HMAC-SHA1, signature
        version 3 with a 10-minute expiry, so the clock of the host running the module must be right).
      - If not set, the E(CLOUDSTACK_SECRET) environment variable is used.
    type: str
  api_http_method:
    description:
      - HTTP method of the API requests. V(post) keeps long parameter lists out of URLs and logs.
      - If not set, the E(CLOUDSTACK_METHOD) environment variable is used.
    type: str
    choices: [ get, post ]
    default: get
  api_timeout:
    description:
      - Timeout of one HTTP request, in seconds.
      - If not set, the E(CLOUDSTACK_TIMEOUT) environment variable is used.
    type: int
    default: 10
  validate_certs:
    description:
      - Whether to validate the TLS certificate of O(api_url).
      - Set to V(false) only for a management server with a self-signed certificate that you control.
    type: bool
    default: true
requirements:
  - cs >= 3.0.0 (the Python CloudStack client, PyPI C(cs))
notes:
  - Values are signed exactly as CloudStack verifies them (Java URL encoding); the C(cs) library
    alone signs values that contain C(~) differently, which CloudStack rejects with HTTP 401.
  - Reads are retried up to 3 times with exponential backoff on connection errors and HTTP 429,
    502, 503, 504 and 530; calls that change something are never retried.
'''
