# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""IBM Cloud Object Storage (COS): connection options, client, errors, multipart logic.

Three layers, from the bottom:

* plain functions with no I/O (part planning, multipart ETags, matching the parts of
  an incomplete upload against a local file, bucket names, sizes and ages); they are
  unit-tested without Ansible or the SDK;
* the client layer: :data:`COS_ARGUMENT_SPEC` (shared by every COS module, documented
  in the ``vmimport.migrate.cos`` doc fragment), :func:`build_client` (``ibm_boto3``
  with HMAC/SigV4 or IAM/oauth) and :func:`describe_error` (one message naming the
  bucket, the key and the fix);
* :class:`MultipartUploader`: the parallel, resumable, memory-bounded upload used by
  ``cos_multipart_upload``.

Only ``ibm-cos-sdk`` and the standard library are needed on the host that runs the
modules (the upload runs on the PowerVC host inside a virtualenv).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
import os
import re
import threading
import time
import zlib
from datetime import datetime

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported by the modules
    import Queue as queue  # type: ignore

try:
    from datetime import timezone
    UTC = timezone.utc
except ImportError:  # pragma: no cover
    UTC = None

try:
    import ibm_boto3
    from ibm_botocore.config import Config
    from ibm_botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError as SdkConnectionError,
        CredentialRetrievalError,
        NoCredentialsError,
        ReadTimeoutError,
    )
    HAS_IBM_COS = True
    IBM_COS_IMPORT_ERROR = None
except ImportError as e:  # the module reports missing_required_lib('ibm-cos-sdk')
    HAS_IBM_COS = False
    IBM_COS_IMPORT_ERROR = e

    class BotoCoreError(Exception):  # noqa: N818 - stand-ins so that except clauses still work
        pass

    class ClientError(Exception):
        pass

    SdkConnectionError = CredentialRetrievalError = NoCredentialsError = ReadTimeoutError = BotoCoreError

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10000
MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
DEFAULT_PART_SIZE = 8 * MiB
DEFAULT_CONCURRENCY = 8

ENDPOINT_TYPES = ("public", "private", "direct")
# Regions and single-site locations of COS (cross-region: us, eu, ap). An unknown name is
# refused before any call; give endpoint_url for a location that is not listed here.
KNOWN_REGIONS = (
    "us-south", "us-east", "eu-gb", "eu-de", "au-syd", "jp-tok", "jp-osa", "ca-tor", "br-sao", "eu-es",
    "ca-mon", "in-che", "us", "eu", "ap", "ams03", "che01", "mon01", "par01", "sjc04", "sng01",
)

COS_ARGUMENT_SPEC = dict(
    endpoint_url=dict(type="str", aliases=["endpoint"],
                      fallback=(env_fallback, ["COS_ENDPOINT_URL", "COS_ENDPOINT"])),
    region=dict(type="str", fallback=(env_fallback, ["COS_REGION"])),
    endpoint_type=dict(type="str", choices=list(ENDPOINT_TYPES), default="public"),
    access_key_id=dict(type="str", no_log=False, aliases=["hmac_access_key_id"],
                       fallback=(env_fallback, ["COS_HMAC_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"])),
    secret_access_key=dict(type="str", no_log=True, aliases=["hmac_secret_access_key"],
                           fallback=(env_fallback, ["COS_HMAC_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"])),
    api_key=dict(type="str", no_log=True, aliases=["ibm_api_key_id"],
                 fallback=(env_fallback, ["COS_API_KEY", "IBMCLOUD_API_KEY", "IC_API_KEY"])),
    service_instance_id=dict(type="str", aliases=["ibm_service_instance_id"],
                             fallback=(env_fallback, ["COS_SERVICE_INSTANCE_ID"])),
    auth_endpoint=dict(type="str", aliases=["ibm_auth_endpoint"],
                       fallback=(env_fallback, ["COS_AUTH_ENDPOINT", "IBMCLOUD_IAM_ENDPOINT"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["COS_VALIDATE_CERTS"])),
    ca_bundle=dict(type="path", fallback=(env_fallback, ["COS_CA_BUNDLE"])),
    addressing_style=dict(type="str", choices=["path", "virtual", "auto"], default="path"),
    request_checksum_calculation=dict(type="str", choices=["when_required", "when_supported"],
                                      default="when_supported"),
    retries=dict(type="int", default=8),
    timeout=dict(type="int", default=300),
)


class CosError(Exception):
    """An expected failure; ``str()`` is the one message shown to the user."""

    def __init__(self, msg, code=None):
        super(CosError, self).__init__(msg)
        self.msg = msg
        self.code = code


# ---------------------------------------------------------------------------
# plain logic
# ---------------------------------------------------------------------------

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": TiB}


def parse_size(value):
    """Bytes from an int or a string such as ``16MiB``, ``16M``, ``16MB``, ``1G`` (binary units)."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 16MiB, got %r" % (value,))
    if isinstance(value, int):
        return value
    m = _SIZE_RE.match(str(value))
    if not m:
        raise ValueError("expected a size such as 16MiB, 64M or 1GiB (binary units), got %r" % (value,))
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


_AGE_RE = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(value):
    """Seconds from an int or a string such as ``90``, ``90s``, ``30m``, ``2h``, ``1d``, ``1d12h``."""
    if isinstance(value, bool):
        raise ValueError("expected an age such as 2h, got %r" % (value,))
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("an age cannot be negative: %r" % (value,))
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    pos, total = 0, 0
    compact = text.replace(" ", "")
    for m in _AGE_RE.finditer(compact):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _AGE_UNITS[m.group(2).lower()]
        pos = m.end()
    if pos != len(compact) or not compact:
        raise ValueError("expected an age such as 3600, 90s, 30m, 2h, 1d or 1d12h, got %r" % (value,))
    return total


def human_size(n):
    """``1.5 GiB`` style, for messages."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return "%d B" % n  # pragma: no cover


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def bucket_name_error(name):
    """None when name is a valid COS bucket name, else the reason (checked before any call)."""
    if not name:
        return "a bucket name is required"
    if len(name) < 3 or len(name) > 63:
        return "bucket name '%s' must have 3 to 63 characters (it has %d)" % (name, len(name))
    if not _BUCKET_RE.match(name):
        return ("bucket name '%s' may only hold lowercase letters, digits, '-' and '.', and must start "
                "and end with a letter or a digit" % name)
    if ".." in name or ".-" in name or "-." in name:
        return "bucket name '%s' must not have '..', '.-' or '-.'" % name
    if _IPV4_RE.match(name):
        return "bucket name '%s' must not look like an IP address" % name
    return None


def region_endpoint(region, endpoint_type="public"):
    """The COS endpoint URL of a region: public, private or direct."""
    if endpoint_type not in ENDPOINT_TYPES:
        raise ValueError("endpoint_type must be one of %s" % ", ".join(ENDPOINT_TYPES))
    infix = "" if endpoint_type == "public" else endpoint_type + "."
    return "https://s3.%s%s.cloud-object-storage.appdomain.cloud" % (infix, region)


def plan_part_size(size, part_size=DEFAULT_PART_SIZE):
    """The part size for a file of ``size`` bytes.

    The configured size, or larger when the file needs more than 10,000 parts:
    ``ceil(size / 10000)`` rounded up to a MiB. Raises ValueError for a part size
    outside 5 MiB..5 GiB or a file above the 10,000 x 5 GiB ceiling.
    """
    if part_size < MIN_PART_SIZE or part_size > MAX_PART_SIZE:
        raise ValueError("part_size must be between 5 MiB and 5 GiB, got %s" % human_size(part_size))
    if size > MAX_OBJECT_SIZE:
        raise ValueError("%s is more than COS accepts in one object (10,000 parts of 5 GiB)" % human_size(size))
    needed = -(-size // MAX_PARTS)           # ceil
    needed = -(-needed // MiB) * MiB           # rounded up to a MiB
    return min(max(part_size, needed), MAX_PART_SIZE)


def part_count(size, part_size):
    """Number of parts (at least one, even for an empty file)."""
    return max(1, -(-size // part_size))


def part_range(number, size, part_size):
    """(offset, length) of 1-based part ``number``."""
    offset = (number - 1) * part_size
    return offset, max(0, min(part_size, size - offset))


def in_flight_parts(concurrency, part_size, configured_part_size):
    """Worker count so that memory stays near ``(concurrency + 1) x configured part size``.

    Parts grow above the configured size only for files beyond 10,000 parts; the number
    of parts in flight then shrinks (never below one) so that memory does not grow with
    the file.
    """
    budget = (concurrency + 1) * configured_part_size
    return max(1, min(concurrency, budget // part_size - 1))


def strip_etag(etag):
    return (etag or "").strip().strip('"').strip()


def is_plain_md5_etag(etag):
    e = strip_etag(etag)
    return len(e) == 32 and all(c in "0123456789abcdefABCDEF" for c in e)


def multipart_etag(md5_digests):
    """S3 multipart ETag (without quotes) from the binary MD5 of each part, in order."""
    return "%s-%d" % (hashlib.md5(b"".join(md5_digests)).hexdigest(), len(md5_digests))


def b64_md5(digest):
    return base64.b64encode(digest).decode("ascii")


def b64_crc32(data):
    """The base64 CRC32 of data, as S3's ChecksumCRC32 (zlib releases the GIL on large buffers)."""
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode("ascii")


def etag_part_sizes(etag, size, preferred=()):
    """Part sizes that can have produced a multipart ``etag`` (``<md5>-N``) for ``size`` bytes.

    Candidates are the preferred sizes and the part sizes of common tools (5, 8, 15, 16, 32,
    50, 64, 100, 128 MiB), kept when they give exactly N parts; at most three are returned.
    """
    e = strip_etag(etag)
    if "-" not in e:
        return []
    try:
        n = int(e.rsplit("-", 1)[1])
    except ValueError:
        return []
    out = []
    common = [p * MiB for p in (5, 8, 15, 16, 32, 50, 64, 100, 128)]
    for p in list(preferred) + common:
        if p and p not in out and part_count(size, p) == n and (n > 1 or p >= size):
            out.append(p)
    return out[:3]


def infer_part_size(parts, size, planned):
    """The part size of an incomplete upload, from its listed parts; None when it does not fit.

    ``parts`` is ListParts' list (``PartNumber``, ``Size``). Every part but the last has the
    upload's part size, so the largest listed size is it, unless only the last part is listed:
    then the planned size is tried.
    """
    if not parts:
        return None
    sizes = set(p["Size"] for p in parts)
    candidates = [max(sizes), planned]
    for p in candidates:
        if p < MIN_PART_SIZE or p > MAX_PART_SIZE or part_count(size, p) > MAX_PARTS:
            continue
        if all(p_["PartNumber"] <= part_count(size, p) and p_["Size"] == part_range(p_["PartNumber"], size, p)[1]
               for p_ in parts):
            return p
    return None


def resumable_parts(parts, size, part_size):
    """{number: plain md5 hex} of listed parts whose size fits the file and whose ETag is an MD5.

    Parts with another ETag form cannot be checked against the file: they are left out (and
    sent again).
    """
    out = {}
    n = part_count(size, part_size)
    for p in parts:
        num = p["PartNumber"]
        if 1 <= num <= n and p["Size"] == part_range(num, size, part_size)[1] and is_plain_md5_etag(p["ETag"]):
            out[num] = strip_etag(p["ETag"]).lower()
    return out


def choose_upload(candidates):
    """The best incomplete upload to resume: the most resumable bytes, then the newest.

    ``candidates``: dicts with ``upload_id``, ``initiated`` (comparable or None) and
    ``resumable_bytes``. Returns (chosen or None, the others).
    """
    usable = [c for c in candidates if c.get("resumable_bytes")]
    if not usable:
        return None, list(candidates)
    best = max(usable, key=lambda c: (c["resumable_bytes"], c.get("initiated") or 0))
    return best, [c for c in candidates if c is not best]


# ---------------------------------------------------------------------------
# client layer
# ---------------------------------------------------------------------------

def cos_argument_spec(**extra):
    """The shared connection options plus a module's own."""
    spec = dict((k, dict(v)) for k, v in COS_ARGUMENT_SPEC.items())
    spec.update(extra)
    return spec


def resolve_endpoint(params):
    """The endpoint URL from endpoint_url, or from region and endpoint_type."""
    if params.get("endpoint_url"):
        url = params["endpoint_url"].rstrip("/")
        if not re.match(r"^https?://[^/\s]+", url):
            raise CosError("endpoint_url '%s' is not an http(s) URL, e.g. "
                           "https://s3.us-south.cloud-object-storage.appdomain.cloud" % url)
        return url
    region = params.get("region")
    if not region:
        raise CosError("set endpoint_url, or region to use the %s endpoint of a COS region"
                       % (params.get("endpoint_type") or "public"))
    if region not in KNOWN_REGIONS:
        raise CosError("unknown COS region '%s'; known: %s. For another location give endpoint_url."
                       % (region, ", ".join(KNOWN_REGIONS)))
    return region_endpoint(region, params.get("endpoint_type") or "public")


def auth_mode(params):
    """'hmac' or 'iam' from the options; CosError when neither is complete."""
    ak, sk = params.get("access_key_id"), params.get("secret_access_key")
    if ak and sk:
        return "hmac"
    if ak or sk:
        raise CosError("HMAC authentication needs both access_key_id and secret_access_key "
                       "(the cos_hmac_keys of a service credential); only %s is set"
                       % ("access_key_id" if ak else "secret_access_key"))
    if params.get("api_key"):
        return "iam"
    raise CosError("no COS credentials: set access_key_id and secret_access_key (HMAC) or api_key (IAM), "
                   "or the COS_HMAC_ACCESS_KEY_ID / COS_HMAC_SECRET_ACCESS_KEY or IBMCLOUD_API_KEY "
                   "environment variables")


def client_config_kwargs(params, endpoint, mode, max_pool_connections=10):
    """Keyword arguments for ibm_botocore's Config (kept separate to be unit-tested)."""
    s3 = {"addressing_style": params.get("addressing_style") or "path"}
    if endpoint.startswith("http://") and mode == "hmac":
        # Each part carries Content-MD5, which the server checks; over HTTPS the SDK already
        # skips the SHA-256 of the body in that case, over plain HTTP it would hash every
        # byte a second time.
        s3["payload_signing_enabled"] = False
    kw = dict(
        signature_version="s3v4" if mode == "hmac" else "oauth",
        s3=s3,
        retries={"max_attempts": max(1, int(params.get("retries") or 1)), "mode": "standard"},
        connect_timeout=min(60, int(params.get("timeout") or 60)),
        read_timeout=int(params.get("timeout") or 300),
        max_pool_connections=max_pool_connections,
        user_agent_extra="vmimport.migrate",
    )
    if "request_checksum_calculation" in getattr(Config, "OPTION_DEFAULTS", {}):
        kw["request_checksum_calculation"] = params.get("request_checksum_calculation") or "when_supported"
    return kw


def build_client(params, max_pool_connections=10):
    """An ``ibm_boto3`` S3 client from the module parameters (HMAC or IAM)."""
    endpoint = resolve_endpoint(params)
    mode = auth_mode(params)
    cfg = Config(**client_config_kwargs(params, endpoint, mode, max_pool_connections))
    verify = params.get("ca_bundle") or bool(params.get("validate_certs", True))
    kwargs = dict(endpoint_url=endpoint, config=cfg, verify=verify)
    if params.get("region"):
        kwargs["region_name"] = params["region"]
    if mode == "hmac":
        kwargs.update(aws_access_key_id=params["access_key_id"], aws_secret_access_key=params["secret_access_key"])
    else:
        kwargs.update(ibm_api_key_id=params["api_key"])
        if params.get("service_instance_id"):
            kwargs["ibm_service_instance_id"] = params["service_instance_id"]
        if params.get("auth_endpoint"):
            kwargs["ibm_auth_endpoint"] = params["auth_endpoint"]
    return ibm_boto3.client("s3", **kwargs)


def _target(bucket, key):
    if bucket and key:
        return "'%s/%s'" % (bucket, key)
    if bucket:
        return "bucket '%s'" % bucket
    return "COS"


def describe_error(exc, action, bucket=None, key=None, endpoint=None, upload_id=None):
    """One message for an SDK exception: what failed, on what, why, and what to do."""
    where = _target(bucket, key)
    at = (" at %s" % endpoint) if endpoint else ""
    if isinstance(exc, CosError):
        return exc.msg
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
        code = str(err.get("Code") or "")
        message = err.get("Message") or ""
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") if hasattr(exc, "response") else None
        if code in ("NoSuchBucket",) or (code == "404" and not key):
            return ("%s failed: bucket '%s' does not exist%s; create it or check the bucket name, "
                    "region and endpoint" % (action, bucket, at))
        if code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthorizationHeaderMalformed",
                    "InvalidToken", "ExpiredToken"):
            return ("%s failed on %s: COS rejected the credentials (%s)%s; check the HMAC keys "
                    "(access_key_id / secret_access_key) or the API key" % (action, where, code, at))
        if code in ("AccessDenied", "403", "Forbidden") or status == 403:
            return ("%s failed on %s: access denied%s; the credentials need the Writer (or Manager) role "
                    "on the bucket, or the HMAC keys / API key are wrong" % (action, where, at))
        if code == "NoSuchUpload":
            return ("%s failed on %s: multipart upload %s no longer exists (completed or aborted by someone "
                    "else); run the task again to start a new upload" % (action, where, upload_id or ""))
        if code == "NoSuchKey" or code == "404":
            return "%s failed: object %s does not exist%s" % (action, where, at)
        if code == "InvalidBucketName":
            return "%s failed: %s is not a valid bucket name for COS" % (action, where)
        if code in ("BadDigest", "InvalidDigest"):
            return ("%s failed on %s: the data COS received did not match its Content-MD5 (%s); the "
                    "network or the file changed while uploading, run again to resume" % (action, where, code))
        if code in ("EntityTooSmall", "EntityTooLarge", "InvalidPart", "InvalidPartOrder"):
            return "%s failed on %s: COS refused the parts (%s: %s)" % (action, where, code, message)
        return "%s failed on %s: %s%s%s" % (action, where, code or status, (": " + message) if message else "", at)
    if isinstance(exc, CredentialRetrievalError):
        return ("%s failed: IAM did not issue a token for the API key (%s); check api_key and auth_endpoint"
                % (action, exc))
    if isinstance(exc, NoCredentialsError):
        return "%s failed: no credentials; set access_key_id / secret_access_key or api_key" % action
    if isinstance(exc, ReadTimeoutError):
        return ("%s failed on %s: COS did not answer in time%s; raise timeout or lower concurrency"
                % (action, where, at))
    if isinstance(exc, SdkConnectionError):
        return ("%s failed: cannot reach the COS endpoint %s (%s); check endpoint_url / region / "
                "endpoint_type and the network" % (action, endpoint or "", exc))
    if isinstance(exc, BotoCoreError):
        return "%s failed on %s: %s" % (action, where, exc)
    if isinstance(exc, (IOError, OSError)):
        return "%s failed: %s" % (action, exc)
    return "%s failed on %s: %s: %s" % (action, where, type(exc).__name__, exc)


def error_code(exc):
    if isinstance(exc, ClientError) and hasattr(exc, "response"):
        return str(exc.response.get("Error", {}).get("Code") or "")
    return ""


class CosModule(object):
    """AnsibleModule with the COS connection options, a client and one-message failures."""

    def __init__(self, argument_spec, **kwargs):
        spec = cos_argument_spec(**argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self._client = None
        self.endpoint = None
        if not HAS_IBM_COS:
            self.module.fail_json(msg=missing_required_lib("ibm-cos-sdk"), exception=str(IBM_COS_IMPORT_ERROR))
        for opt in ("retries", "timeout"):
            if self.params.get(opt) is not None and self.params[opt] < 1:
                self.fail("%s must be at least 1, got %s" % (opt, self.params[opt]))
        bucket = self.params.get("bucket")
        if bucket is not None:
            reason = bucket_name_error(bucket)
            if reason:
                self.fail("invalid bucket name: %s; fix the bucket option" % reason)
        try:
            self.endpoint = resolve_endpoint(self.params)
            auth_mode(self.params)
        except CosError as e:
            self.fail(e.msg)

    def client(self, max_pool_connections=10):
        if self._client is None:
            try:
                self._client = build_client(self.params, max_pool_connections=max_pool_connections)
            except (BotoCoreError, ValueError) as e:
                self.fail("cannot create a COS client for %s: %s" % (self.endpoint, e))
        return self._client

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def fail_from(self, exc, action, bucket=None, key=None, upload_id=None, **kwargs):
        self.fail(describe_error(exc, action, bucket=bucket, key=key, endpoint=self.endpoint,
                                 upload_id=upload_id), **kwargs)

    def exit(self, **kwargs):
        self.module.exit_json(**kwargs)


# ---------------------------------------------------------------------------
# bucket / object / upload helpers (thin wrappers on the client)
# ---------------------------------------------------------------------------

def list_uploads(client, bucket, prefix="", exact_key=None):
    """All incomplete multipart uploads of a bucket under prefix (paginated)."""
    out = []
    kwargs = {"Bucket": bucket, "Prefix": prefix or ""}
    while True:
        resp = client.list_multipart_uploads(**kwargs)
        for u in resp.get("Uploads") or []:
            if exact_key is None or u.get("Key") == exact_key:
                out.append(u)
        if not resp.get("IsTruncated"):
            return out
        kwargs["KeyMarker"] = resp.get("NextKeyMarker") or ""
        kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker") or ""
        if not kwargs["KeyMarker"] and not kwargs["UploadIdMarker"]:
            return out


def list_parts(client, bucket, key, upload_id):
    """All parts of an incomplete upload (paginated)."""
    out = []
    kwargs = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
    while True:
        resp = client.list_parts(**kwargs)
        out.extend(resp.get("Parts") or [])
        if not resp.get("IsTruncated"):
            return out
        kwargs["PartNumberMarker"] = resp.get("NextPartNumberMarker")


def head_object(client, bucket, key):
    """HeadObject as a plain dict, or None when the object does not exist."""
    try:
        resp = client.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if error_code(e) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    meta = dict((k.lower(), v) for k, v in (resp.get("Metadata") or {}).items())
    lm = resp.get("LastModified")
    return {
        "size": resp.get("ContentLength"),
        "etag": strip_etag(resp.get("ETag")),
        "metadata": meta,
        "sha256": meta.get("sha256"),
        "last_modified": lm.isoformat() if hasattr(lm, "isoformat") else lm,
        "content_type": resp.get("ContentType"),
    }


def age_seconds(initiated, now=None):
    """Seconds since an upload's ``Initiated`` timestamp (aware datetime)."""
    if initiated is None:
        return None
    if now is None:
        now = datetime.now(UTC) if UTC is not None else datetime.utcnow()
    if getattr(initiated, "tzinfo", None) is None and UTC is not None:
        initiated = initiated.replace(tzinfo=UTC)
    return int((now - initiated).total_seconds())


# ---------------------------------------------------------------------------
# reading and hashing
# ---------------------------------------------------------------------------

def read_into(f, view, offset):
    """Fill ``view`` from ``f`` at ``offset``; IOError on a short file."""
    f.seek(offset)
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise IOError("file ended at byte %d while %d more were expected: it shrank while uploading"
                          % (offset + got, len(view) - got))
        got += n
    return got


def scan_file(path, size, sha256=True, md5_part_sizes=(), block=8 * MiB, progress=None):
    """One sequential read: SHA-256 of the file and, per part size, the MD5 of each part.

    Returns (sha256 hex or None, {part_size: [md5 digest, ...]}). Memory: one block.
    """
    sha = hashlib.sha256() if sha256 else None
    md5s = dict((p, []) for p in md5_part_sizes)
    cur = dict((p, hashlib.md5()) for p in md5_part_sizes)
    buf = bytearray(block)
    view = memoryview(buf)
    pos = 0
    with open(path, "rb", buffering=0) as f:
        while pos < size:
            n = min(block, size - pos)
            read_into(f, view[:n], pos)
            chunk = view[:n]
            if sha is not None:
                sha.update(chunk)
            for p in md5_part_sizes:
                done = 0
                while done < n:
                    left = p - (pos + done) % p
                    take = min(left, n - done)
                    cur[p].update(chunk[done:done + take])
                    done += take
                    if (pos + done) % p == 0:
                        md5s[p].append(cur[p].digest())
                        cur[p] = hashlib.md5()
            pos += n
            if progress:
                progress(pos)
    for p in md5_part_sizes:
        if size % p or size == 0:
            md5s[p].append(cur[p].digest())
    return (sha.hexdigest() if sha is not None else None), md5s


# ---------------------------------------------------------------------------
# the upload
# ---------------------------------------------------------------------------

class ResumeMismatch(Exception):
    """A part of the upload being resumed differs from the file: the upload is for other data."""

    def __init__(self, number):
        super(ResumeMismatch, self).__init__("part %d of the incomplete upload differs from the file" % number)
        self.number = number


class Progress(object):
    """Counts bytes and parts; optionally writes one JSON line per event to a file."""

    def __init__(self, size, parts, path=None, clock=time.time):
        self.size = size
        self.parts = parts
        self.path = path
        self.clock = clock
        self.started = clock()
        self.lock = threading.Lock()
        self.bytes_done = 0
        self.bytes_sent = 0
        self.parts_done = 0
        self.parts_sent = 0
        self._fh = None
        if path:
            self._fh = open(path, "a")

    def event(self, kind, **extra):
        if self._fh is None:
            return
        secs = max(self.clock() - self.started, 1e-6)
        rec = dict(event=kind, time=round(self.clock(), 3), seconds=round(secs, 3), size=self.size,
                   parts=self.parts, bytes_done=self.bytes_done, parts_done=self.parts_done,
                   bytes_sent=self.bytes_sent, parts_sent=self.parts_sent,
                   percent=round(100.0 * self.bytes_done / self.size, 1) if self.size else 100.0,
                   throughput=int(self.bytes_sent / secs))
        rec.update(extra)
        self._fh.write(json.dumps(rec, sort_keys=True) + "\n")
        self._fh.flush()

    def part(self, number, length, sent):
        with self.lock:
            self.bytes_done += length
            self.parts_done += 1
            if sent:
                self.bytes_sent += length
                self.parts_sent += 1
            self.event("part", part=number, sent=sent)

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class MultipartUploader(object):
    """Sends the parts of one multipart upload in parallel, with bounded memory.

    One reader (the calling thread) reads the parts in order into a pool of
    ``workers + 1`` buffers and feeds the SHA-256 of the whole file as it goes;
    ``workers`` threads compute each part's MD5 (hashlib releases the GIL) and
    either check it against the part already uploaded (resume) or send it with
    ``Content-MD5``. Memory is the buffer pool, whatever the file size.
    """

    def __init__(self, client, bucket, key, path, size, part_size, workers, progress=None, crc32=False):
        self.client = client
        self.bucket = bucket
        self.key = key
        self.path = path
        self.size = size
        self.part_size = part_size
        self.workers = max(1, int(workers))
        self.count = part_count(size, part_size)
        self.progress = progress or Progress(size, self.count)
        self.crc32 = crc32
        self._stop = threading.Event()
        self._errors = []

    def run(self, upload_id, existing=None, compute_sha256=True):
        """Upload what ``existing`` ({number: md5 hex}) lacks; return (parts, sha256 hex or None).

        ``parts`` is {number: (md5 digest, etag, base64 CRC32 or None)} for every part (the CRC32
        when the upload declares that checksum). Raises ResumeMismatch when a
        part in ``existing`` does not match the file, or the first error of any worker.
        """
        existing = existing or {}
        nbuf = min(self.workers + 1, self.count)
        pool = queue.Queue()
        for dummy in range(nbuf):
            pool.put(bytearray(min(self.part_size, max(self.size, 1))))
        work = queue.Queue()
        results = {}
        sha = hashlib.sha256() if compute_sha256 else None

        def worker():
            while True:
                item = work.get()
                if item is None:
                    return
                number, buf, length = item
                try:
                    if not self._stop.is_set():
                        results[number] = self._one(upload_id, number, buf, length, existing)
                except BaseException as e:  # noqa: B902 - handed to the reader thread
                    self._errors.append(e)
                    self._stop.set()
                finally:
                    pool.put(buf)

        threads = [threading.Thread(target=worker, name="cos-part-%d" % i) for i in range(min(self.workers, self.count))]
        for t in threads:
            t.daemon = True
            t.start()
        try:
            with open(self.path, "rb", buffering=0) as f:
                for number in range(1, self.count + 1):
                    buf = pool.get()
                    if self._stop.is_set():
                        pool.put(buf)
                        break
                    offset, length = part_range(number, self.size, self.part_size)
                    view = memoryview(buf)[:length]
                    read_into(f, view, offset)
                    work.put((number, buf, length))
                    if sha is not None:
                        sha.update(view)
                    del view
        except BaseException:
            self._stop.set()  # interrupted: the parts still queued are not sent
            raise
        finally:
            for dummy in threads:
                work.put(None)
            for t in threads:
                t.join()
        if self._errors:
            raise self._errors[0]
        return results, (sha.hexdigest() if sha is not None else None)

    def _one(self, upload_id, number, buf, length, existing):
        if length == len(buf):
            body = buf
        else:
            body = bytes(memoryview(buf)[:length])
        digest = hashlib.md5(body).digest()
        crc = b64_crc32(body) if self.crc32 else None
        have = existing.get(number)
        if have is not None:
            if have == binascii.hexlify(digest).decode("ascii"):
                self.progress.part(number, length, sent=False)
                return digest, '"%s"' % have, crc
            raise ResumeMismatch(number)
        extra = {"ChecksumCRC32": crc} if crc else {}
        resp = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=upload_id,
                                       PartNumber=number, Body=body, ContentMD5=b64_md5(digest), **extra)
        etag = resp.get("ETag")
        if is_plain_md5_etag(etag) and strip_etag(etag).lower() != binascii.hexlify(digest).decode("ascii"):
            raise CosError("COS stored part %d of '%s/%s' with ETag %s, not the MD5 of the data sent (%s)"
                           % (number, self.bucket, self.key, strip_etag(etag), binascii.hexlify(digest).decode()))
        self.progress.part(number, length, sent=True)
        return digest, etag, crc


class UploadFailed(Exception):
    """The upload failed; ``msg`` names the object and the fix, ``result`` what the module returns."""

    def __init__(self, msg, **result):
        super(UploadFailed, self).__init__(msg)
        self.msg = msg
        self.result = result


class UploadTask(object):
    """Upload one local file to ``bucket/key``: idempotent, resumable, verified.

    The story: look at the object and at incomplete uploads of the key; if the object
    already holds the file (same size and SHA-256, or the same ETag) nothing changes;
    otherwise resume the best incomplete upload of the key whose parts match the file,
    or start one (with the file's SHA-256 as metadata); send the missing parts in
    parallel; complete; check what COS reports. On an error the upload is aborted,
    unless ``keep_on_failure``.
    """

    def __init__(self, client, bucket, key, src, part_size=DEFAULT_PART_SIZE, concurrency=DEFAULT_CONCURRENCY,
                 sha256=None, verify_sha256=False, metadata=None, overwrite="different", resume=True,
                 keep_on_failure=False, progress_file=None, endpoint=None, warn=None, clock=time.time,
                 crc32=False):
        self.client = client
        self.bucket = bucket
        self.key = key
        self.src = src
        self.configured_part_size = part_size
        self.concurrency = concurrency
        self.expected_sha256 = sha256.lower() if sha256 else None
        self.verify_sha256 = verify_sha256
        self.crc32 = crc32
        self.metadata = dict((str(k).lower(), str(v)) for k, v in (metadata or {}).items())
        self.overwrite = overwrite
        self.resume = resume
        self.keep_on_failure = keep_on_failure
        self.progress_file = progress_file
        self.endpoint = endpoint
        self.warn = warn or (lambda msg: None)
        self.clock = clock
        self.size = None
        self.part_size = None
        self._sha256 = None
        self.bytes_sent = 0
        self.parts_sent = 0
        self.aborted = []

    # -- helpers ------------------------------------------------------------
    def _fail(self, exc, action, upload_id=None, **result):
        raise UploadFailed(describe_error(exc, action, self.bucket, self.key, self.endpoint, upload_id), **result)

    def _stat(self):
        try:
            st = os.stat(self.src)
        except OSError as e:
            raise UploadFailed("cannot read src '%s': %s" % (self.src, e.strerror or e))
        if not os.path.isfile(self.src):
            raise UploadFailed("src '%s' is not a regular file" % self.src)
        if not os.access(self.src, os.R_OK):
            raise UploadFailed("src '%s' is not readable by this user" % self.src)
        self.size = st.st_size
        try:
            self.part_size = plan_part_size(self.size, self.configured_part_size)
        except ValueError as e:
            raise UploadFailed("cannot upload '%s': %s" % (self.src, e))

    def local_sha256(self):
        """The file's SHA-256: the one given, else computed now (one read of the file)."""
        if self._sha256 is None:
            if self.expected_sha256:
                self._sha256 = self.expected_sha256
            else:
                self._sha256 = scan_file(self.src, self.size)[0]
        return self._sha256

    def _same_object(self, obj):
        """(True, sha256 or None) when the object holds the file, else (False, None)."""
        if obj["size"] != self.size:
            return False, None
        if obj.get("sha256"):
            sha = self.local_sha256()
            return obj["sha256"].lower() == sha, sha
        etag = obj.get("etag") or ""
        if is_plain_md5_etag(etag):
            sizes = [max(self.size, 1)]
        else:
            sizes = etag_part_sizes(etag, self.size, preferred=[self.part_size])
        if not sizes:
            return False, None
        sha, md5s = scan_file(self.src, self.size, sha256=self._sha256 is None and not self.expected_sha256,
                              md5_part_sizes=sizes)
        if sha:
            self._sha256 = sha
        for p in sizes:
            digests = md5s[p]
            local = binascii.hexlify(digests[0]).decode() if is_plain_md5_etag(etag) else multipart_etag(digests)
            if local == etag.lower():
                return True, self._sha256 or self.expected_sha256
        return False, None

    def _candidates(self, uploads):
        """Incomplete uploads of the key, with what of them can be kept."""
        out = []
        for u in uploads:
            parts = list_parts(self.client, self.bucket, self.key, u["UploadId"])
            p = infer_part_size(parts, self.size, self.part_size)
            existing = resumable_parts(parts, self.size, p) if p else {}
            if existing and not self._probe(min(existing), p, existing[min(existing)]):
                existing = {}  # its first part is not the file's: an upload of other data
            out.append(dict(upload_id=u["UploadId"], initiated=u.get("Initiated"), part_size=p,
                            existing=existing, listed=len(parts),
                            resumable_bytes=sum(part_range(n, self.size, p)[1] for n in existing)))
        return out

    def _probe(self, number, part_size, md5_hex):
        """Whether part ``number`` of the file has this MD5 (one part read)."""
        offset, length = part_range(number, self.size, part_size)
        md5 = hashlib.md5()
        buf = bytearray(min(length, 8 * MiB) or 1)
        view = memoryview(buf)
        with open(self.src, "rb", buffering=0) as f:
            done = 0
            while done < length:
                n = min(len(buf), length - done)
                read_into(f, view[:n], offset + done)
                md5.update(view[:n])
                done += n
        return md5.hexdigest() == md5_hex

    def _abort(self, upload_id):
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
            self.aborted.append(upload_id)
            return None
        except (ClientError, BotoCoreError) as e:
            if error_code(e) == "NoSuchUpload":
                return None
            return describe_error(e, "abort upload %s" % upload_id, self.bucket, self.key, self.endpoint)

    def _result(self, changed, started, **extra):
        secs = max(self.clock() - started, 0.0)
        res = dict(changed=changed, bucket=self.bucket, key=self.key, src=self.src, size=self.size,
                   part_size=self.part_size, bytes_sent=self.bytes_sent, parts_sent=self.parts_sent,
                   seconds=round(secs, 3), throughput=int(self.bytes_sent / secs) if secs > 0 and self.bytes_sent else 0,
                   resumed=False, upload_id=None, aborted_uploads=list(self.aborted))
        res.update(extra)
        return res

    # -- the story ------------------------------------------------------------
    def run(self, check_mode=False):
        started = self.clock()
        self._stat()
        try:
            uploads = list_uploads(self.client, self.bucket, prefix=self.key, exact_key=self.key)
            obj = head_object(self.client, self.bucket, self.key)
        except (ClientError, BotoCoreError) as e:
            self._fail(e, "look up the object")

        if obj is not None and self.overwrite != "always":
            if self.overwrite == "never":
                return self._result(False, started, etag=obj["etag"], sha256=obj.get("sha256"),
                                    parts=_etag_parts(obj["etag"]),
                                    msg="object %s exists; not replaced (overwrite=never)" % _target(self.bucket, self.key))
            same, sha = self._same_object(obj)
            if same:
                return self._result(False, started, etag=obj["etag"], sha256=sha or obj.get("sha256"),
                                    parts=_etag_parts(obj["etag"]),
                                    msg="object %s already holds %s" % (_target(self.bucket, self.key), self.src))

        try:
            candidates = self._candidates(uploads) if self.resume and self.size > self.part_size else []
        except (ClientError, BotoCoreError) as e:
            self._fail(e, "list the parts of an incomplete upload")
        chosen, stale = choose_upload(candidates)

        if check_mode:
            have = chosen["resumable_bytes"] if chosen else 0
            return self._result(True, started, resumed=chosen is not None,
                                upload_id=chosen["upload_id"] if chosen else None,
                                part_size=chosen["part_size"] if chosen else self.part_size,
                                parts=part_count(self.size, chosen["part_size"] if chosen else self.part_size),
                                bytes_to_send=self.size - have, etag=None, sha256=self.expected_sha256,
                                msg="would upload %s to %s" % (self.src, _target(self.bucket, self.key)))

        if self.size <= self.part_size:
            return self._put_single(started)
        return self._multipart(started, chosen, stale)

    def _put_single(self, started):
        sha = self.local_sha256()
        with open(self.src, "rb") as f:
            data = f.read()
        if len(data) != self.size:
            raise UploadFailed("src '%s' changed size while reading it" % self.src)
        actual = hashlib.sha256(data).hexdigest() if self.expected_sha256 and self.verify_sha256 else sha
        if actual != sha:
            raise UploadFailed("the SHA-256 of src '%s' is %s, not the sha256 option's %s: fix the option or the file"
                               % (self.src, actual, sha))
        digest = hashlib.md5(data).digest()
        meta = dict(self.metadata, sha256=sha)
        extra = {"ChecksumCRC32": b64_crc32(data)} if self.crc32 else {}
        try:
            resp = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=data, ContentMD5=b64_md5(digest),
                                          Metadata=meta, **extra)
        except (ClientError, BotoCoreError) as e:
            self._fail(e, "upload")
        self.bytes_sent, self.parts_sent = self.size, 1
        return self._result(True, started, etag=strip_etag(resp.get("ETag")), sha256=sha, parts=1,
                            msg="uploaded %s to %s" % (self.src, _target(self.bucket, self.key)))

    def _multipart(self, started, chosen, stale):
        for attempt in (1, 2):
            upload_id, resumed = None, chosen is not None
            try:
                if chosen is not None:
                    upload_id, part_size, existing = chosen["upload_id"], chosen["part_size"], chosen["existing"]
                    sha_known = self.expected_sha256
                else:
                    part_size, existing = self.part_size, {}
                    sha_known = self.local_sha256()
                    meta = dict(self.metadata, sha256=sha_known)
                    extra = {"ChecksumAlgorithm": "CRC32"} if self.crc32 else {}
                    upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                                    Metadata=meta, **extra)["UploadId"]
                self.part_size = part_size
                outcome = self._send(upload_id, part_size, existing, sha_known, resumed)
                if outcome == "restart":
                    # a part of the resumed upload differs from the file: that upload was for other data
                    stale = [c for c in stale if c["upload_id"] != upload_id]
                    self._abort(upload_id)
                    self.warn("incomplete upload %s of %s did not match %s (the file changed since); "
                              "it was aborted and a new upload started" % (upload_id, _target(self.bucket, self.key), self.src))
                    chosen = None
                    continue
                etag, parts, sha, want = outcome
            except UploadFailed as e:
                self._on_failure(upload_id, e.msg, e.result)
            except (ClientError, BotoCoreError, CosError, IOError, OSError) as e:
                self._on_failure(upload_id, describe_error(e, "upload %s" % self.src, self.bucket, self.key,
                                                           self.endpoint, upload_id), {})
            except KeyboardInterrupt as e:
                # SIGINT, or SIGTERM turned into KeyboardInterrupt by the module
                self._on_failure(upload_id, "upload of %s to %s interrupted (%s)"
                                 % (self.src, _target(self.bucket, self.key), e or "SIGINT"), {})
            except Exception as e:
                # a bug: the same cleanup, and the traceback is kept
                self._on_failure(upload_id, "upload of %s failed: %s" % (self.src, e), {}, reraise=e)
            # completed: from here on there is no upload to abort, only an object to check
            if self._completed_wrong(upload_id, etag, want, sha, again=resumed and attempt == 1):
                chosen = None
                continue
            for c in stale:
                err = self._abort(c["upload_id"])
                if err:
                    self.warn(err)
            return self._result(True, started, etag=etag, sha256=sha, parts=parts, resumed=resumed,
                                msg="uploaded %s to %s%s" % (self.src, _target(self.bucket, self.key),
                                                             " (resumed)" if resumed else ""))
        raise UploadFailed("could not upload %s to %s after starting over" % (self.src, _target(self.bucket, self.key)))

    def _send(self, upload_id, part_size, existing, sha_known, resumed):
        """Send the missing parts and complete. 'restart' when the resumed upload does not match."""
        count = part_count(self.size, part_size)
        workers = in_flight_parts(self.concurrency, part_size, self.configured_part_size)
        progress = Progress(self.size, count, self.progress_file, clock=self.clock)
        progress.event("start", upload_id=upload_id, resumed=resumed, part_size=part_size,
                       parts_present=len(existing))
        uploader = MultipartUploader(self.client, self.bucket, self.key, self.src, self.size, part_size, workers,
                                     progress=progress, crc32=self.crc32)
        # The SHA-256 is computed while sending when it was given and is to be checked, or
        # when the upload is resumed without it; a new upload without it had it computed before.
        compute = (bool(self.expected_sha256) and self.verify_sha256) or sha_known is None
        try:
            try:
                parts, sha = uploader.run(upload_id, existing, compute_sha256=compute)
            except ResumeMismatch:
                return "restart"
            finally:
                self.bytes_sent += progress.bytes_sent
                self.parts_sent += progress.parts_sent
            sha = sha or sha_known
            if self.expected_sha256 and self.verify_sha256 and sha != self.expected_sha256:
                raise UploadFailed("the SHA-256 of src '%s' is %s, not the sha256 option's %s: fix the option or "
                                   "the file (nothing was completed)" % (self.src, sha, self.expected_sha256))
            self._sha256 = sha
            ordered = [dict({"PartNumber": n, "ETag": parts[n][1]}, **({"ChecksumCRC32": parts[n][2]} if parts[n][2] else {}))
                       for n in range(1, count + 1)]
            resp = self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id,
                                                         MultipartUpload={"Parts": ordered})
            etag = strip_etag(resp.get("ETag"))
            progress.event("complete", etag=etag)
            return etag, count, sha, multipart_etag([parts[n][0] for n in range(1, count + 1)])
        finally:
            progress.close()

    def _completed_wrong(self, upload_id, etag, want, sha, again):
        """Check the completed object. True when it must be uploaded again (stale metadata of a resume).

        Raises UploadFailed when COS reports something else than what was sent (the object is
        then deleted when it cannot be trusted).
        """
        where = _target(self.bucket, self.key)
        try:
            if "-" in etag and etag.lower() != want:
                self.client.delete_object(Bucket=self.bucket, Key=self.key)
                raise UploadFailed("COS assembled %s with ETag %s, not %s computed from the parts sent; the object "
                                   "was deleted, run the task again" % (where, etag, want))
            obj = head_object(self.client, self.bucket, self.key)
            if obj is None or obj["size"] != self.size:
                raise UploadFailed("COS completed upload %s but %s then reported %s bytes instead of %d"
                                   % (upload_id, where, obj and obj["size"], self.size))
            if (obj.get("sha256") or "").lower() == sha:
                return False
            if not again:
                raise UploadFailed("%s holds sha256 metadata %s, expected %s" % (where, obj.get("sha256"), sha))
            # the resumed upload was started for another version of the file: every byte matches
            # but its metadata is wrong; the object is uploaded again
            self.client.delete_object(Bucket=self.bucket, Key=self.key)
        except (ClientError, BotoCoreError) as e:
            self._fail(e, "check the uploaded object")
        self.warn("the resumed upload %s carried the SHA-256 of another version of %s; the object was uploaded "
                  "again" % (upload_id, self.src))
        return True

    def _on_failure(self, upload_id, msg, result, reraise=None):
        result = dict(result)
        result.update(bytes_sent=self.bytes_sent, parts_sent=self.parts_sent, size=self.size,
                      part_size=self.part_size, upload_id=None, aborted_uploads=list(self.aborted))
        if upload_id and self.keep_on_failure:
            result["upload_id"] = upload_id
            msg += "; upload %s kept for a resume (run the task again)" % upload_id
        elif upload_id:
            err = self._abort(upload_id)
            result["aborted_uploads"] = list(self.aborted)
            if err:
                msg += "; and aborting the upload failed too: %s" % err
            else:
                msg += "; upload %s aborted" % upload_id
        if reraise is not None:
            raise reraise
        raise UploadFailed(msg, **result)


def _etag_parts(etag):
    e = strip_etag(etag)
    if "-" in e:
        try:
            return int(e.rsplit("-", 1)[1])
        except ValueError:
            return None
    return 1
