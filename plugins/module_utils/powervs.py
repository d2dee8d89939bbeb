# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""Client layer for IBM Power Virtual Server (PowerVS, "pcloud") and the plain logic of its modules.

The contract followed here is shared/reference/powervs-api.md: an IAM token from an API key
(ibm-cloud-sdk-core's IAMAuthenticator, which refreshes it), a ``CRN`` header on every pcloud
request, the regional endpoint derived from the zone, ``POST .../cos-images`` to import an image
from a COS bucket, jobs polled until ``completed`` or ``failed``, images listed by name.

Everything but ``PowerVSClient`` and ``client_from_module`` is plain Python, testable without
Ansible or the network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import random
import re
import time

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - depends on the host
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = e

try:
    from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
    HAS_IBM_SDK_CORE = True
    IBM_SDK_CORE_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - depends on the host
    IAMAuthenticator = None
    HAS_IBM_SDK_CORE = False
    IBM_SDK_CORE_IMPORT_ERROR = e

from ansible.module_utils.basic import env_fallback, missing_required_lib

DEFAULT_IAM_URL = "https://iam.cloud.ibm.com"
TOKEN_PATH = "/identity/token"

#: states of a job that is still going (contract: treat every one of them as pending)
PENDING_STATES = ("queued", "readyForProcessing", "inProgress", "running", "waiting")
COMPLETED_STATE = "completed"
FAILED_STATE = "failed"

OS_TYPES = ("aix", "ibmi", "rhel", "sles")
BUCKET_ACCESS = ("public", "private")
COS_REGIONS = ("us-east", "us-south", "eu-de", "eu-gb", "jp-tok", "au-syd", "br-sao", "ca-tor",
               "jp-osa", "eu-es", "che01")
AFFINITY_POLICIES = ("affinity", "anti-affinity")
LICENSE_TYPES = ("byol",)
PRODUCTS = ("Hana", "Netweaver")
VENDORS = ("SAP",)
#: object names PowerVS imports as archives; anything else is a raw disk image (osType required)
ARCHIVE_SUFFIXES = (".ova", ".ova.gz", ".tar", ".tar.gz", ".tgz")
#: zones of on-premises (Satellite) locations contain this (as power-go-client's IsOnPrem)
SATELLITE_MARKER = "satloc"

RETRY_STATUSES = (429, 500, 502, 503, 504)
#: a POST that got one of these may have been processed: look before posting again
AMBIGUOUS_STATUSES = (500, 502, 504)
SECRET_MASK = "********"

CRN_RE = re.compile(r"^crn:v1:(?P<cname>[^:]+):public:power-iaas:(?P<zone>[^:]+):a/(?P<account>[^:]+):"
                    r"(?P<instance>[^:]+)::$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def powervs_argument_spec():
    """Connection options shared by the pvs_* modules (documented in doc_fragments/powervs.py)."""
    return dict(
        api_key=dict(type="str", required=True, no_log=True,
                     fallback=(env_fallback, ["IBMCLOUD_API_KEY", "IC_API_KEY"])),
        iam_url=dict(type="str", default=DEFAULT_IAM_URL),
        zone=dict(type="str"),
        cloud_instance_id=dict(type="str", aliases=["workspace_id"]),
        account_id=dict(type="str"),
        crn=dict(type="str"),
        endpoint_url=dict(type="str"),
        private_endpoint=dict(type="bool", default=False),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=60),
        retries=dict(type="int", default=5),
    )


POWERVS_REQUIRED_ONE_OF = [["account_id", "crn"]]


# ---------------------------------------------------------------------------
# errors

class PowerVSError(Exception):
    """A failed call, with the service's own text and what to fix.

    ``status`` is the HTTP status (None when there was no answer), ``api_text`` the service's
    error text, ``hint`` what the user should check, ``ambiguous`` True when a POST may have been
    processed although it failed (no answer, 500, 502, 504).
    """

    def __init__(self, message, status=None, api_text=None, hint=None, body=None, ambiguous=False):
        super(PowerVSError, self).__init__(message)
        self.message = message
        self.status = status
        self.api_text = api_text
        self.hint = hint
        self.body = body
        self.ambiguous = ambiguous

    def __str__(self):
        return self.message


class PowerVSValidationError(ValueError):
    """Module input that cannot work; raised before any call."""


class JobFailed(Exception):
    def __init__(self, job, states_seen):
        self.job = job
        self.states_seen = states_seen
        status = (job or {}).get("status") or {}
        super(JobFailed, self).__init__(status.get("message") or "the job failed without a message")


class JobTimeout(Exception):
    def __init__(self, job, states_seen, timeout):
        self.job = job
        self.states_seen = states_seen
        self.timeout = timeout
        super(JobTimeout, self).__init__("job still %s after %s s" % (job_state(job), timeout))


def api_error_text(body):
    """The service's own words from an error body: pcloud ``{code, description, error, message}``
    or IAM ``{errorCode, errorMessage}``."""
    if not isinstance(body, dict):
        return (body or "").strip() if isinstance(body, str) else ""
    if body.get("errorMessage") or body.get("errorCode"):
        return " ".join(p for p in (body.get("errorCode"), body.get("errorMessage")) if p)
    parts = []
    for key in ("description", "message"):
        text = body.get(key)
        if text and text not in parts:
            parts.append(text)
    if not parts and body.get("error"):
        parts.append(body["error"])
    code = body.get("code")
    text = "; ".join(parts)
    if code and text:
        text = "%s (code %s)" % (text, code)
    return text


def hint_for(status, path, ctx):
    """What to fix for an HTTP error status on a pcloud path; ctx has zone, account, workspace, endpoint."""
    workspace = "workspace %s (zone %s, account %s, endpoint %s)" % (
        ctx.get("cloud_instance_id"), ctx.get("zone"), ctx.get("account_id"), ctx.get("endpoint"))
    if status == 401:
        return ("PowerVS refused the IAM token: check that api_key is an active API key of the account "
                "that owns the %s" % workspace)
    if status == 403:
        return ("check account_id (or crn) and zone: the %s must exist with exactly these values, and the "
                "API key needs a Power Virtual Server role on it" % workspace)
    if status == 404 and re.search(r"/(jobs|images)/[^/]+$", path or ""):
        return "the object is gone (deleted or never created)"
    if status == 404:
        return ("check cloud_instance_id (the workspace GUID), zone and account_id: no %s was found"
                % workspace)
    if status == 409:
        return ("another image import job is still active in the workspace; re-run later or with wait=true "
                "(a re-run waits on a job it started instead of starting another)")
    if status in (400, 422) and "cos-images" in (path or ""):
        return "the import request was refused: fix the option the message names"
    if status in RETRY_STATUSES:
        return ("the service is busy or failing and still answered %s after the retries; re-run later "
                "(a re-run waits on a job already started instead of posting again)" % status)
    return None


# ---------------------------------------------------------------------------
# plain helpers

def region_from_zone(zone):
    """``lon04`` -> ``lon``, ``dal10`` -> ``dal``, ``eu-de-1`` -> ``eu-de`` (as power-go-client does)."""
    if not zone:
        raise PowerVSValidationError("zone is required to derive the PowerVS endpoint")
    if "-" in zone:
        return re.sub(r"-[0-9]+$", "", zone)
    return re.sub(r"[0-9]+$", "", zone)


def default_endpoint(zone, private=False):
    region = region_from_zone(zone)
    return "https://%s%s.power-iaas.cloud.ibm.com" % ("private." if private else "", region)


def build_crn(zone, account_id, cloud_instance_id):
    return "crn:v1:bluemix:public:power-iaas:%s:a/%s:%s::" % (zone, account_id, cloud_instance_id)


def parse_crn(crn):
    """Split a workspace CRN into zone, account_id, cloud_instance_id; PowerVSValidationError if it is not one."""
    m = CRN_RE.match(crn or "")
    if not m:
        raise PowerVSValidationError(
            "crn '%s' is not a Power Virtual Server workspace CRN; expected "
            "crn:v1:bluemix:public:power-iaas:<zone>:a/<account id>:<cloud instance id>::" % crn)
    return {"zone": m.group("zone"), "account_id": m.group("account"), "cloud_instance_id": m.group("instance")}


def is_satellite(zone):
    return SATELLITE_MARKER in (zone or "")


def resolve_connection(params):
    """From the module's connection options, the values the client needs (or PowerVSValidationError).

    Returns a dict with api_key, iam_url, zone, account_id, cloud_instance_id, crn, endpoint,
    validate_certs, timeout, retries.
    """
    zone = params.get("zone")
    cid = params.get("cloud_instance_id")
    account = params.get("account_id")
    crn = params.get("crn")
    if crn:
        parts = parse_crn(crn)
        for key, value in (("zone", zone), ("cloud_instance_id", cid), ("account_id", account)):
            if value and value != parts[key]:
                raise PowerVSValidationError("%s '%s' does not match the crn, which names %s '%s'; set one or make them agree"
                                             % (key, value, key, parts[key]))
        zone, cid, account = parts["zone"], parts["cloud_instance_id"], parts["account_id"]
    else:
        missing = [k for k, v in (("zone", zone), ("cloud_instance_id", cid), ("account_id", account)) if not v]
        if missing:
            raise PowerVSValidationError("missing %s: set them (or crn) to name the PowerVS workspace"
                                         % ", ".join(missing))
        crn = build_crn(zone, account, cid)
    endpoint = params.get("endpoint_url")
    if endpoint:
        if not re.match(r"^https?://", endpoint):
            endpoint = "https://" + endpoint
    else:
        endpoint = default_endpoint(zone, params.get("private_endpoint"))
    iam_url = (params.get("iam_url") or DEFAULT_IAM_URL).rstrip("/")
    if iam_url.endswith(TOKEN_PATH):
        iam_url = iam_url[:-len(TOKEN_PATH)]
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise PowerVSValidationError("timeout must be a number of seconds above 0 (got %s)" % params["timeout"])
    if params.get("retries") is not None and params["retries"] < 0:
        raise PowerVSValidationError("retries must be 0 or more (got %s)" % params["retries"])
    if not params.get("api_key"):
        raise PowerVSValidationError("api_key is required (or the IBMCLOUD_API_KEY / IC_API_KEY environment variable)")
    return {
        "api_key": params["api_key"], "iam_url": iam_url, "zone": zone, "account_id": account,
        "cloud_instance_id": cid, "crn": crn, "endpoint": endpoint.rstrip("/"),
        "validate_certs": params.get("validate_certs", True), "timeout": params.get("timeout") or 60,
        "retries": params.get("retries") if params.get("retries") is not None else 5,
    }


def validate_bucket_name(bucket_name):
    """Check ``bucket[/folder]``; returns (bucket, folder). PowerVSValidationError names the rule broken."""
    if not bucket_name or not bucket_name.strip():
        raise PowerVSValidationError("bucket_name is required")
    bucket, _sep, folder = bucket_name.partition("/")
    rules = ("3 to 63 characters, lowercase letters, digits, '-' and '.', starting and ending with a letter "
             "or digit, not an IP address")
    if not BUCKET_RE.match(bucket) or IP_RE.match(bucket) or ".." in bucket or ".-" in bucket or "-." in bucket:
        raise PowerVSValidationError("bucket_name '%s': '%s' is not a valid COS bucket name (%s)"
                                     % (bucket_name, bucket, rules))
    if folder and ("//" in folder or folder.startswith("/")):
        raise PowerVSValidationError("bucket_name '%s': the folder part must not contain empty segments" % bucket_name)
    return bucket, folder.strip("/")


def is_archive(filename):
    return (filename or "").lower().endswith(ARCHIVE_SUFFIXES)


def _compact(d):
    return dict((k, v) for k, v in d.items() if v not in (None, "", [], {}))


def build_cos_import_body(params, zone):
    """The ``CreateCosImageImportJob`` body from module options (snake_case), validated.

    Returns (body, warnings). Raises PowerVSValidationError naming the option to fix, before
    anything is sent.
    """
    warnings = []
    name = (params.get("image_name") or "").strip()
    if not name:
        raise PowerVSValidationError("image_name is required and must not be blank")
    validate_bucket_name(params.get("bucket_name"))
    filename = (params.get("image_filename") or "").strip()
    if not filename:
        raise PowerVSValidationError("image_filename (the object name in the bucket) is required")
    if filename.startswith("/"):
        raise PowerVSValidationError("image_filename '%s' must be the object name without a leading '/'; put a "
                                     "folder in bucket_name as bucket/folder" % filename)
    region = params.get("cos_region")
    if region not in COS_REGIONS:
        raise PowerVSValidationError("cos_region '%s' is not a COS region PowerVS imports from; use one of: %s"
                                     % (region, ", ".join(COS_REGIONS)))
    os_type = params.get("os_type")
    if os_type and os_type not in OS_TYPES:
        raise PowerVSValidationError("os_type '%s' is not one of %s" % (os_type, ", ".join(OS_TYPES)))
    if not is_archive(filename) and not os_type:
        raise PowerVSValidationError("image_filename '%s' is not an OVA or tar archive (%s), so PowerVS imports it "
                                     "as a raw image, which needs os_type (one of %s)"
                                     % (filename, ", ".join(ARCHIVE_SUFFIXES), ", ".join(OS_TYPES)))
    access = params.get("bucket_access") or "private"
    if access not in BUCKET_ACCESS:
        raise PowerVSValidationError("bucket_access '%s' is not one of public, private" % access)
    access_key, secret_key = params.get("access_key"), params.get("secret_key")
    if access == "private" and not (access_key and secret_key):
        raise PowerVSValidationError("bucket_access=private needs the COS HMAC keys: set access_key and secret_key "
                                     "(cos_hmac_keys of a COS service credential)")
    if params.get("checksum") and not is_satellite(zone):
        raise PowerVSValidationError("checksum is only supported on on-premises (Satellite) locations and zone '%s' "
                                     "is not one: remove checksum" % zone)
    if params.get("storage_pool") and params.get("storage_affinity"):
        warnings.append("storage_pool is set, so PowerVS ignores storage_affinity")
    body = {
        "imageName": name,
        "bucketName": params["bucket_name"].strip(),
        "imageFilename": filename,
        "region": region,
        "bucketAccess": access,
    }
    if access_key:
        body["accessKey"] = access_key
    if secret_key:
        body["secretKey"] = secret_key
    if os_type:
        body["osType"] = os_type
    if params.get("storage_type"):
        body["storageType"] = params["storage_type"]
    if params.get("storage_pool"):
        body["storagePool"] = params["storage_pool"]
    affinity = params.get("storage_affinity")
    if affinity:
        body["storageAffinity"] = storage_affinity_body(affinity)
    details = params.get("import_details")
    if details:
        body["importDetails"] = import_details_body(details)
    if params.get("checksum") is not None and params.get("checksum"):
        body["checksum"] = True
    tags = params.get("user_tags")
    if tags:
        if not all(isinstance(t, str) and t.strip() for t in tags):
            raise PowerVSValidationError("user_tags must be a list of non-empty strings")
        body["userTags"] = list(tags)
    return body, warnings


def storage_affinity_body(aff):
    policy = aff.get("affinity_policy")
    if policy and policy not in AFFINITY_POLICIES:
        raise PowerVSValidationError("storage_affinity.affinity_policy '%s' is not one of %s"
                                     % (policy, ", ".join(AFFINITY_POLICIES)))
    out = _compact({
        "affinityPolicy": policy,
        "affinityPVMInstance": aff.get("affinity_pvm_instance"),
        "affinityVolume": aff.get("affinity_volume"),
        "antiAffinityPVMInstances": list(aff.get("anti_affinity_pvm_instances") or []),
        "antiAffinityVolumes": list(aff.get("anti_affinity_volumes") or []),
    })
    if policy == "affinity" and not (out.get("affinityPVMInstance") or out.get("affinityVolume")):
        raise PowerVSValidationError("storage_affinity.affinity_policy=affinity needs affinity_pvm_instance or "
                                     "affinity_volume")
    if policy == "anti-affinity" and not (out.get("antiAffinityPVMInstances") or out.get("antiAffinityVolumes")):
        raise PowerVSValidationError("storage_affinity.affinity_policy=anti-affinity needs "
                                     "anti_affinity_pvm_instances or anti_affinity_volumes")
    if not policy and out:
        raise PowerVSValidationError("storage_affinity needs affinity_policy (affinity or anti-affinity)")
    return out


def import_details_body(det):
    out = {}
    for opt, field, allowed in (("license_type", "licenseType", LICENSE_TYPES), ("product", "product", PRODUCTS),
                                ("vendor", "vendor", VENDORS)):
        value = det.get(opt)
        if not value:
            raise PowerVSValidationError("import_details.%s is required (one of %s)" % (opt, ", ".join(allowed)))
        if value not in allowed:
            raise PowerVSValidationError("import_details.%s '%s' is not one of %s" % (opt, value, ", ".join(allowed)))
        out[field] = value
    return out


def mask_body(body):
    """A copy of an import body that can be shown: the HMAC secret replaced by a mask."""
    shown = dict(body)
    if shown.get("secretKey"):
        shown["secretKey"] = SECRET_MASK
    return shown


def job_state(job):
    return ((job or {}).get("status") or {}).get("state") or ""


def classify_state(state):
    """'completed', 'failed' or 'pending' (every other state, known or not, is still going)."""
    if state == COMPLETED_STATE:
        return "completed"
    if state == FAILED_STATE:
        return "failed"
    return "pending"


def is_known_state(state):
    return state in PENDING_STATES or state in (COMPLETED_STATE, FAILED_STATE)


def poll_delays(start=10.0, cap=60.0, factor=1.5):
    """Seconds between two polls: start, then times factor, never above cap (forever)."""
    delay = float(start)
    while True:
        yield min(delay, float(cap))
        delay = min(delay * factor, float(cap))


def backoff_delay(attempt, base=1.0, cap=30.0, retry_after=None, rand=random.random):
    """Seconds before retry number attempt (0-based): Retry-After when given, else jittered exponential."""
    if retry_after is not None:
        return min(max(float(retry_after), 0.0), 300.0)
    delay = min(cap, base * (2 ** attempt))
    return delay * (0.75 + 0.5 * rand())


def parse_retry_after(value, now=None):
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def parse_timestamp(text):
    """Epoch seconds of an API timestamp (``2026-01-02T03:04:05.678Z`` and variants); 0 when unreadable."""
    if not text:
        return 0.0
    t = text.strip().replace("Z", "+00:00")
    m = re.match(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}:?\d{2})?$", t)
    if not m:
        return 0.0
    dt = datetime.datetime.strptime(m.group(1).replace(" ", "T"), "%Y-%m-%dT%H:%M:%S")
    frac = float(m.group(2)) if m.group(2) else 0.0
    offset = 0
    if m.group(3):
        sign = -1 if m.group(3)[0] == "-" else 1
        hh, mm = m.group(3)[1:].replace(":", "")[:2], m.group(3)[1:].replace(":", "")[2:]
        offset = sign * (int(hh) * 3600 + int(mm) * 60)
    epoch = (dt - datetime.datetime(1970, 1, 1)).total_seconds() - offset
    return epoch + frac


def select_image(images, name):
    """Images named name, newest first; returns (newest or None, matches, warning or None)."""
    matches = [i for i in images or [] if i.get("name") == name]
    matches.sort(key=lambda i: (parse_timestamp(i.get("creationDate")), i.get("imageID") or ""), reverse=True)
    if not matches:
        return None, [], None
    warning = None
    if len(matches) > 1:
        warning = ("%d images are named '%s' in the workspace (image names are not unique); using the newest, %s "
                   "created %s; the others: %s" % (
                       len(matches), name, matches[0].get("imageID"), matches[0].get("creationDate"),
                       ", ".join(i.get("imageID") or "?" for i in matches[1:])))
    return matches[0], matches, warning


def job_matches(job, image_name, since=None, skew=120.0):
    """True when an import job is (very likely) the import of image_name.

    The job's operation names the image (``operation.id`` or ``operation.target``), or, when since
    (epoch seconds) is given, the job was created after since (minus clock skew): a POST whose
    answer was lost started it.
    """
    if not job:
        return False
    op = job.get("operation") or {}
    if image_name and image_name in (op.get("id"), op.get("target")):
        return True
    if since is not None:
        created = parse_timestamp(job.get("createTimestamp"))
        return bool(created) and created >= since - skew
    return False


def summarize_job(job):
    """The job as the modules return it."""
    if not job:
        return None
    status = job.get("status") or {}
    return {
        "id": job.get("id"),
        "state": status.get("state"),
        "progress": status.get("progress"),
        "message": status.get("message") or "",
        "operation": job.get("operation") or {},
        "create_timestamp": job.get("createTimestamp"),
    }


def wait_for_job(get_job, job_id, timeout, poll_start=10.0, poll_cap=60.0, sleep=None, clock=None, on_change=None):
    """Poll get_job(job_id) until completed (returns (job, states_seen)) or failed (JobFailed).

    Every state but completed/failed counts as pending, whatever its name. JobTimeout when
    timeout seconds pass. on_change(job) is called when the state changes.
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + float(timeout)
    delays = poll_delays(poll_start, poll_cap)
    seen = []
    while True:
        job = get_job(job_id)
        state = job_state(job)
        if not seen or seen[-1] != state:
            seen.append(state)
            if on_change:
                on_change(job)
        kind = classify_state(state)
        if kind == "completed":
            return job, seen
        if kind == "failed":
            raise JobFailed(job, seen)
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeout(job, seen, timeout)
        sleep(min(next(delays), remaining))


# ---------------------------------------------------------------------------
# the HTTP client

class PowerVSClient(object):
    """pcloud calls for one workspace: token, CRN header, retries, error translation."""

    def __init__(self, conn, session=None, sleep=None, clock=None, log=None, authenticator_factory=None):
        self.conn = conn
        self.endpoint = conn["endpoint"]
        self.cloud_instance_id = conn["cloud_instance_id"]
        self.crn = conn["crn"]
        self.timeout = conn.get("timeout") or 60
        self.retries = conn.get("retries", 5)
        self.validate_certs = conn.get("validate_certs", True)
        self.session = session or requests.Session()
        self.sleep = sleep or _sleep
        self.clock = clock or _now
        self.log = log or (lambda msg: None)
        self._auth_factory = authenticator_factory or self._default_authenticator
        self._auth = None
        self.retried = 0  # how many retries happened (reported by the modules)

    # token -----------------------------------------------------------------
    def _default_authenticator(self):
        return IAMAuthenticator(self.conn["api_key"], url=self.conn["iam_url"],
                                disable_ssl_verification=not self.validate_certs)

    def reset_token(self):
        self._auth = None

    def token(self):
        if self._auth is None:
            self._auth = self._auth_factory()
        attempt = 0
        iam = self.conn["iam_url"] + TOKEN_PATH
        while True:
            try:
                return self._auth.token_manager.get_token()
            except Exception as e:  # ApiException, requests errors, bad answers: all become PowerVSError
                status = getattr(e, "status_code", None)
                if (status in RETRY_STATUSES or status is None and _is_transport_error(e)) and attempt < self.retries:
                    retry_after = None
                    resp = getattr(e, "http_response", None)
                    if resp is not None:
                        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    delay = backoff_delay(attempt, retry_after=retry_after)
                    self.log("IAM answered %s; retry %d in %.1fs" % (status or "nothing", attempt + 1, delay))
                    self.retried += 1
                    self.sleep(delay)
                    attempt += 1
                    continue
                raise self._iam_error(e, iam)

    def _iam_error(self, e, iam):
        status = getattr(e, "status_code", None)
        resp = getattr(e, "http_response", None)
        text = None
        if resp is not None:
            try:
                text = api_error_text(resp.json())
            except ValueError:
                text = (resp.text or "").strip()[:500]
        if status is None:
            if _is_transport_error(e):
                return PowerVSError("cannot reach IAM at %s: %s; check iam_url and the network (proxy, TLS: "
                                    "validate_certs)" % (iam, e), hint="check iam_url")
            return PowerVSError("IAM at %s gave no usable token: %s; check iam_url points to IBM Cloud IAM"
                                % (iam, e), hint="check iam_url")
        if status in (400, 401, 403):
            return PowerVSError(
                "IAM refused the API key (HTTP %s: %s). Check api_key (or the IBMCLOUD_API_KEY / IC_API_KEY "
                "environment variable): it must be an active API key of the account that owns the workspace"
                % (status, text or getattr(e, "message", "") or "no detail"),
                status=status, api_text=text, hint="check api_key")
        return PowerVSError("IAM at %s failed with HTTP %s: %s" % (iam, status, text or e), status=status, api_text=text)

    # requests ----------------------------------------------------------------
    def url(self, path):
        return "%s/pcloud/v1/cloud-instances/%s%s" % (self.endpoint, self.cloud_instance_id, path)

    def call(self, method, path, body=None, ok=(200, 201, 202)):
        """One pcloud call with retries; returns the decoded JSON answer ({} when empty).

        GET/DELETE are retried on 429/5xx and on no answer. A POST is retried on 429 and 503 only
        (not processed); on 500/502/504 or no answer it raises PowerVSError(ambiguous=True) for the
        caller to look before posting again.
        """
        url = self.url(path)
        attempt = 0
        refreshed = False
        while True:
            headers = {"Authorization": "Bearer %s" % self.token(), "CRN": self.crn,
                       "Accept": "application/json"}
            try:
                resp = self.session.request(method, url, json=body, headers=headers, timeout=self.timeout,
                                            verify=self.validate_certs)
            except Exception as e:
                if not _is_transport_error(e):
                    raise
                if method != "POST" and attempt < self.retries:
                    delay = backoff_delay(attempt)
                    self.log("%s %s: no answer (%s); retry %d in %.1fs" % (method, path, e, attempt + 1, delay))
                    self.retried += 1
                    self.sleep(delay)
                    attempt += 1
                    continue
                raise PowerVSError("PowerVS %s %s got no answer from %s: %s; check endpoint_url (or zone) and the "
                                   "network" % (method, path, self.endpoint, e), ambiguous=(method == "POST"))
            status = resp.status_code
            if status in ok:
                return _json(resp)
            if status == 401 and not refreshed:
                # the token expired or was revoked between fetch and use: get a new one, once
                refreshed = True
                self.reset_token()
                continue
            if status in RETRY_STATUSES and attempt < self.retries:
                if method == "POST" and status in AMBIGUOUS_STATUSES:
                    raise self.error(resp, method, path, ambiguous=True)
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                delay = backoff_delay(attempt, retry_after=retry_after)
                self.log("%s %s answered %s; retry %d in %.1fs" % (method, path, status, attempt + 1, delay))
                self.retried += 1
                self.sleep(delay)
                attempt += 1
                continue
            raise self.error(resp, method, path)

    def error(self, resp, method, path, ambiguous=False):
        body = _json(resp, default=None)
        text = api_error_text(body) if body is not None else (resp.text or "").strip()[:500]
        hint = hint_for(resp.status_code, path, dict(self.conn, endpoint=self.endpoint))
        msg = "PowerVS %s %s failed with HTTP %s: %s" % (method, path, resp.status_code, text or "no detail")
        if hint:
            msg += ". " + hint[0].upper() + hint[1:]
        return PowerVSError(msg, status=resp.status_code, api_text=text, hint=hint, body=body, ambiguous=ambiguous)

    # API -----------------------------------------------------------------------
    def list_images(self):
        return self.call("GET", "/images").get("images") or []

    def get_image(self, image_id):
        return self.call("GET", "/images/%s" % image_id)

    def delete_image(self, image_id):
        return self.call("DELETE", "/images/%s" % image_id)

    def get_job(self, job_id):
        return self.call("GET", "/jobs/%s" % job_id)

    def list_jobs(self):
        return self.call("GET", "/jobs").get("jobs") or []

    def last_import_job(self):
        """The last cos-images import job of the workspace, or None when there never was one."""
        # a 404 here means "no import job yet": the workspace itself was checked by an earlier call
        try:
            return self.call("GET", "/cos-images")
        except PowerVSError as e:
            if e.status == 404:
                return None
            raise

    def post_cos_import(self, body):
        return self.call("POST", "/cos-images", body=body, ok=(200, 201, 202))


def _sleep(seconds):
    time.sleep(seconds)  # looked up at call time, so tests can patch time.sleep


def _now():
    return time.time()


def _json(resp, default=None):
    if not resp.content:
        return {} if default is None else default
    try:
        return resp.json()
    except ValueError:
        return {} if default is None else default


def _is_transport_error(e):
    if requests is None:
        return False
    return isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def client_from_module(module, **kwargs):
    """A PowerVSClient from the module's connection options; fails the module cleanly when it cannot."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
    if not HAS_IBM_SDK_CORE:
        module.fail_json(msg=missing_required_lib("ibm-cloud-sdk-core"), exception=str(IBM_SDK_CORE_IMPORT_ERROR))
    try:
        conn = resolve_connection(module.params)
    except PowerVSValidationError as e:
        module.fail_json(msg=str(e))
    return PowerVSClient(conn, log=module.log, **kwargs)


# ---------------------------------------------------------------------------
# the import workflow, one step per method (pvs_image_import reads as their sequence)

class CosImageImport(object):
    """Import one image from COS, idempotently: an existing image or a running job for it is reused."""

    def __init__(self, client, body, log=None):
        self.client = client
        self.body = body
        self.name = body["imageName"]
        self.log = log or (lambda msg: None)
        self.warnings = []

    def existing_image(self):
        """(newest image with the name or None); a warning is recorded when several have the name."""
        image, _matches, warning = select_image(self.client.list_images(), self.name)
        if warning:
            self.warnings.append(warning)
        return image

    def image_details(self, image):
        return self.client.get_image(image["imageID"]) if image else None

    def active_job(self):
        """(job, ours): the workspace's last import job when still pending, and whether it imports this image."""
        job = self.client.last_import_job()
        if job and classify_state(job_state(job)) == "pending":
            return job, job_matches(job, self.name)
        return None, False

    def start(self):
        """POST the import; returns (job reference {id, href}, adopted).

        On 409 (an import already active) the active job is returned when it imports this image,
        else the PowerVSError is raised. On an answer that may hide a processed POST (500/502/504,
        no answer) the last job is checked first, and adopted when it is this import, before posting
        again.
        """
        attempt = 0
        since = self.client.clock()
        while True:
            try:
                return self.client.post_cos_import(self.body), False
            except PowerVSError as e:
                if e.status == 409:
                    job, ours = self.active_job()
                    if job and ours:
                        self.log("import of %s already running as job %s: waiting on it" % (self.name, job["id"]))
                        return {"id": job["id"]}, True
                    raise
                if not e.ambiguous:
                    raise
                job = self.client.last_import_job()
                if job and job_matches(job, None, since=since):
                    self.log("POST cos-images answered %s but started job %s: using it" % (e.status, job["id"]))
                    return {"id": job["id"]}, True
                if attempt >= self.client.retries:
                    raise
                delay = backoff_delay(attempt)
                self.log("POST cos-images answered %s and started no job; retry %d in %.1fs"
                         % (e.status or "nothing", attempt + 1, delay))
                self.client.retried += 1
                self.client.sleep(delay)
                attempt += 1

    def _get_own_job(self, job_id):
        """The job; when its record is gone (404), completed if the image is there, else an error."""
        try:
            return self.client.get_job(job_id)
        except PowerVSError as e:
            if e.status != 404:
                raise
        image, _matches, _warning = select_image(self.client.list_images(), self.name)
        if image:
            return {"id": job_id, "status": {"state": COMPLETED_STATE, "progress": "100%",
                                             "message": "job record gone; image %s found" % image.get("imageID")}}
        raise PowerVSError("PowerVS import job %s of image %s is gone (HTTP 404) and no image named %s is in the "
                           "workspace: the job was deleted or cancelled; run the task again to start a new import"
                           % (job_id, self.name, self.name), status=404)

    def wait(self, job_id, timeout, poll_start=10.0, poll_cap=60.0, on_change=None):
        """Wait for this image's import job (see wait_for_job)."""
        return wait_for_job(self._get_own_job, job_id, timeout, poll_start=poll_start, poll_cap=poll_cap,
                            sleep=self.client.sleep, clock=self.client.clock, on_change=on_change)

    def wait_other(self, job_id, timeout, poll_start=10.0, poll_cap=60.0, on_change=None):
        """Wait for another import job to end (completed, failed or gone); JobTimeout if it does not."""
        def get(jid):
            try:
                return self.client.get_job(jid)
            except PowerVSError as e:
                if e.status == 404:
                    return {"id": jid, "status": {"state": COMPLETED_STATE, "message": "job record gone"}}
                raise
        try:
            return wait_for_job(get, job_id, timeout, poll_start=poll_start, poll_cap=poll_cap,
                                sleep=self.client.sleep, clock=self.client.clock, on_change=on_change)
        except JobFailed as e:
            return e.job, e.states_seen
