"""IBM Cloud IAM + Power Virtual Server ("pcloud") emulator for the sandbox.

One HTTP server on 127.0.0.1 serves:

- IAM: ``POST /identity/token`` (form ``grant_type=urn:ibm:params:oauth:grant-type:apikey``,
  ``apikey=...``) -> ``access_token`` (a JWT with ``iat``/``exp``, as ibm-cloud-sdk-core decodes
  it), ``refresh_token``, ``token_type``, ``expires_in``, ``expiration``. A wrong API key gets
  IAM's 400 ``BXNIM0415E``; tokens expire and an expired, revoked or unknown token gets 401.
- pcloud, following shared/reference/powervs-api.md: the ``CRN`` header check, the
  ``cos-images`` import (``CreateCosImageImportJob`` validated like the service, one active
  import per workspace, 409 otherwise), jobs moving through
  ``queued -> readyForProcessing -> inProgress -> running -> completed|failed``, a job that
  really downloads the object from the sandbox COS (S3) endpoint with the HMAC keys of the body
  and then adds an image to the workspace catalog, images list/get/delete, and jobs
  list/get/delete. Error bodies are ``{code, description, error, message}``.
- ``/_sandbox/...`` for tests: ``GET /_sandbox/state`` (jobs, images, faults, request log),
  ``POST /_sandbox/reset``, ``GET|POST /_sandbox/faults`` (JSON, merged into the current set):

  ``fail_next_job``: message          the next job created fails with this ``status.message``
  ``http_errors``: {status, count,     the next ``count`` pcloud (or ``scope``: iam|all) requests
     methods?, path?, scope?,          matching ``methods``/``path`` (substring) get ``status``
     retry_after?}                     (429, 500, 502, 503, 504), with Retry-After on 429/503
  ``gateway_timeout_after_create``: N the next N accepted cos-images POSTs create their job
                                       but answer 504 (the gateway lost the answer)
  ``state_seconds``: float            seconds spent in each job state (slow jobs)
  ``pending_states``: [..]            the pending states a job walks through, in order
  ``token_lifetime``: seconds         lifetime of the tokens issued from now on
  ``revoke_tokens``: true             every token issued so far becomes invalid (401)
  ``expired_api_keys``: [key..]       IAM refuses these keys (an expired or deleted key)

Run: ``python sandbox/emulators/powervs.py --port 8080 --api-key KEY --account-id ACCT
--workspace GUID:lon04 --cos-endpoint http://127.0.0.1:9000 --cos-region us-east``.
Only the standard library and boto3 (for the COS download) are used.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import io
import json
import math
import re
import secrets
import sys
import tarfile
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
PENDING_STATES = ("queued", "readyForProcessing", "inProgress", "running")
ALL_PENDING = ("queued", "readyForProcessing", "inProgress", "running", "waiting")
OS_TYPES = ("aix", "ibmi", "rhel", "sles")
BUCKET_ACCESS = ("public", "private")
COS_REGIONS = ("us-east", "us-south", "eu-de", "eu-gb", "jp-tok", "au-syd", "br-sao", "ca-tor",
               "jp-osa", "eu-es", "che01")
ARCHIVE_SUFFIXES = (".ova", ".ova.gz", ".tar", ".tar.gz", ".tgz")
AFFINITY_POLICIES = ("affinity", "anti-affinity")
LICENSE_TYPES = ("byol",)
PRODUCTS = ("Hana", "Netweaver")
VENDORS = ("SAP",)
KNOWN_BODY_FIELDS = ("imageName", "bucketName", "imageFilename", "region", "accessKey", "secretKey",
                     "bucketAccess", "osType", "storageType", "storagePool", "storageAffinity",
                     "importDetails", "checksum", "userTags")
STORAGE_TYPES = ("tier0", "tier1", "tier3", "tier5k")
PHRASES = {400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found",
           409: "conflict", 422: "unprocessable entity", 429: "too many requests",
           500: "internal server error", 502: "bad gateway", 503: "service unavailable",
           504: "gateway timeout"}
CRN_RE = re.compile(r"^crn:v1:bluemix:public:power-iaas:(?P<zone>[^:]+):a/(?P<account>[^:]+):"
                    r"(?P<instance>[^:]+)::$")
PATH_RE = re.compile(r"^/pcloud/v1/cloud-instances/(?P<cid>[^/]+)(?P<rest>/.*)?$")


def now_iso(ts=None):
    ts = time.time() if ts is None else ts
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def api_error(status, description, message="", code=0):
    return status, {"code": code, "description": description, "error": PHRASES.get(status, "error"),
                    "message": message}


class ApiError(Exception):
    def __init__(self, status, description, message="", code=0):
        super(ApiError, self).__init__(description)
        self.status, self.body = api_error(status, description, message, code)


def validation_error(message, code=601):
    """What go-swagger answers for a body that fails the schema (422, code 601 required / 605 enum)."""
    return ApiError(422, message, message=message, code=code)


class Emulator(object):
    """All state of the IAM + PowerVS emulator; thread-safe through one lock."""

    def __init__(self, api_keys, account_id, workspaces, cos_endpoint, cos_region,
                 state_seconds=0.5, token_lifetime=3600):
        self.lock = threading.RLock()
        self.api_keys = list(api_keys)
        self.account_id = account_id
        self.workspaces = dict(workspaces)  # guid -> zone
        self.cos_endpoint = cos_endpoint
        self.cos_region = cos_region
        self.default_state_seconds = float(state_seconds)
        self.default_token_lifetime = int(token_lifetime)
        self.signing_key = secrets.token_bytes(32)
        self.reset()

    # state ---------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.tokens = {}            # access token -> {exp, account, apikey_hash, revoked}
            self.jobs = {}              # job id -> job dict (with private "_" keys)
            self.images = {}            # image id -> image dict (with "_workspace")
            self.requests = []          # [{method, path, status}]
            self.faults = self._default_faults()

    def _default_faults(self):
        return {"fail_next_job": None, "http_errors": None, "gateway_timeout_after_create": 0,
                "state_seconds": self.default_state_seconds, "pending_states": list(PENDING_STATES),
                "token_lifetime": self.default_token_lifetime, "expired_api_keys": []}

    def set_faults(self, new):
        if not isinstance(new, dict):
            raise ApiError(400, "faults must be a JSON object")
        with self.lock:
            for key, value in new.items():
                if key == "revoke_tokens":
                    if value:
                        for tok in self.tokens.values():
                            tok["revoked"] = True
                    continue
                if key not in self.faults:
                    raise ApiError(400, "unknown fault '%s'; known: %s, revoke_tokens"
                                   % (key, ", ".join(sorted(self.faults))))
                if key == "http_errors" and value is not None:
                    value = dict(value)
                    value.setdefault("count", 1)
                    value.setdefault("scope", "pcloud")
                    if int(value.get("status", 0)) not in PHRASES or int(value["status"]) < 400:
                        raise ApiError(400, "http_errors.status must be an HTTP error status")
                if key == "pending_states":
                    bad = [s for s in value if s not in ALL_PENDING]
                    if bad or not value:
                        raise ApiError(400, "pending_states must be a non-empty list of %s" % (ALL_PENDING,))
                self.faults[key] = value
            return dict(self.faults)

    def snapshot(self):
        with self.lock:
            return {
                "jobs": [self._public_job(j) for j in self.jobs.values()],
                "jobs_detail": [dict((k, v) for k, v in j.items() if k not in ("_body",))
                                for j in self.jobs.values()],
                "images": [dict(i) for i in self.images.values()],
                "faults": dict(self.faults),
                "requests": list(self.requests),
                "tokens_issued": len(self.tokens),
                "workspaces": dict(self.workspaces),
                "account_id": self.account_id,
            }

    def log_request(self, method, path, status):
        with self.lock:
            self.requests.append({"method": method, "path": path, "status": status, "time": time.time()})
            if len(self.requests) > 5000:
                del self.requests[:1000]

    # fault injection -----------------------------------------------------
    def injected_error(self, method, path, scope):
        with self.lock:
            spec = self.faults.get("http_errors")
            if not spec or int(spec.get("count", 0)) <= 0:
                return None
            if spec.get("scope", "pcloud") not in (scope, "all"):
                return None
            methods = spec.get("methods")
            if methods and method.upper() not in [m.upper() for m in methods]:
                return None
            if spec.get("path") and spec["path"] not in path:
                return None
            spec["count"] = int(spec["count"]) - 1
            status = int(spec["status"])
            headers = {}
            if status in (429, 503):
                headers["Retry-After"] = str(spec.get("retry_after", 1))
            if status == 429:
                body = api_error(429, "rate limit exceeded: too many requests, retry later")[1]
            elif status == 504:
                body = api_error(504, "gateway timeout: the upstream service did not answer in time")[1]
            else:
                body = api_error(status, "%s: injected by the sandbox" % PHRASES.get(status, "error"))[1]
            return status, body, headers

    # IAM -------------------------------------------------------------------
    def issue_token(self, form):
        grant = form.get("grant_type", "")
        if grant != GRANT_TYPE:
            return 400, {"errorCode": "BXNIM0106E",
                         "errorMessage": "Validation of property 'grant_type' with value '%s' failed. "
                                         "Valid values: '%s'" % (grant, GRANT_TYPE),
                         "context": self._iam_context()}
        apikey = form.get("apikey", "")
        if not apikey:
            return 400, {"errorCode": "BXNIM0106E",
                         "errorMessage": "Property missing or empty. Property: apikey",
                         "context": self._iam_context()}
        with self.lock:
            known = apikey in self.api_keys and apikey not in self.faults["expired_api_keys"]
            lifetime = int(self.faults["token_lifetime"])
        if not known:
            return 400, {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found",
                         "context": self._iam_context()}
        iat = int(time.time())
        exp = iat + lifetime
        header = {"kid": "sandbox-1", "alg": "RS256"}
        payload = {"iam_id": "IBMid-sandbox", "id": "IBMid-sandbox", "realmid": "IBMid",
                   "jti": uuid.uuid4().hex, "identifier": "sandbox", "sub": "sandbox@example.invalid",
                   "sub_type": "ServiceId", "account": {"valid": True, "bss": self.account_id},
                   "iat": iat, "exp": exp, "iss": "https://iam.cloud.ibm.com/identity",
                   "grant_type": GRANT_TYPE, "scope": "ibm openid", "client_id": "default", "acr": 1, "amr": ["pwd"]}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
        sig = hmac.new(self.signing_key, signing_input.encode(), hashlib.sha256).digest()
        token = signing_input + "." + b64url(sig)
        with self.lock:
            self.tokens[token] = {"exp": exp, "account": self.account_id, "revoked": False}
        return 200, {"access_token": token, "refresh_token": secrets.token_urlsafe(48), "ims_user_id": 0,
                     "token_type": "Bearer", "expires_in": lifetime, "expiration": exp, "scope": "ibm openid"}

    @staticmethod
    def _iam_context():
        return {"requestId": uuid.uuid4().hex, "requestType": "incoming.Identity_Token",
                "url": "https://iam.cloud.ibm.com", "instanceId": "iamid-sandbox",
                "startTime": now_iso(), "endTime": now_iso()}

    def check_token(self, authorization):
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "unauthorized: missing or malformed Authorization header (Bearer token)")
        token = authorization[len("Bearer "):].strip()
        with self.lock:
            info = self.tokens.get(token)
        if info is None:
            raise ApiError(401, "unauthorized: the bearer token is not valid")
        if info["revoked"]:
            raise ApiError(401, "unauthorized: the bearer token has been revoked")
        if info["exp"] <= time.time():
            raise ApiError(401, "unauthorized: the bearer token is expired")
        return info

    # pcloud ------------------------------------------------------------------
    def check_crn(self, crn, cloud_instance_id, token):
        if not crn:
            raise ApiError(400, "bad request: the CRN header is required")
        m = CRN_RE.match(crn)
        if not m:
            raise ApiError(400, "bad request: CRN header '%s' is not a power-iaas CRN "
                           "(crn:v1:bluemix:public:power-iaas:<zone>:a/<account id>:<cloud instance id>::)" % crn)
        if m.group("account") != token["account"]:
            raise ApiError(403, "forbidden: the token of account %s cannot access account %s named in the CRN header"
                           % (token["account"], m.group("account")))
        if m.group("instance") != cloud_instance_id:
            raise ApiError(400, "bad request: cloud instance id %s in the CRN header does not match %s in the path"
                           % (m.group("instance"), cloud_instance_id))
        zone = self.workspaces.get(cloud_instance_id)
        if zone is None:
            raise ApiError(404, "pcloud cloud instance %s not found in account %s"
                           % (cloud_instance_id, m.group("account")))
        if m.group("zone") != zone:
            raise ApiError(403, "forbidden: cloud instance %s is not in zone %s (CRN header); "
                           "requests for it must name its own zone" % (cloud_instance_id, m.group("zone")))
        return zone

    def route(self, method, path, body, headers):
        m = PATH_RE.match(path)
        if not m:
            raise ApiError(404, "path %s not found" % path)
        token = self.check_token(headers.get("Authorization"))
        cid = m.group("cid")
        zone = self.check_crn(headers.get("CRN"), cid, token)
        rest = (m.group("rest") or "").rstrip("/")
        if rest == "/cos-images":
            if method == "POST":
                return self.create_import(cid, zone, body)
            if method == "GET":
                return self.last_import(cid)
        elif rest == "/jobs" and method == "GET":
            return 200, {"jobs": [self._public_job(j) for j in self._jobs_of(cid)]}
        elif rest.startswith("/jobs/"):
            job_id = rest[len("/jobs/"):]
            if method == "GET":
                return 200, self._public_job(self._job(cid, job_id))
            if method == "DELETE":
                return self.delete_job(cid, job_id)
        elif rest == "/images" and method == "GET":
            with self.lock:
                refs = [self._image_reference(i) for i in self.images.values() if i["_workspace"] == cid]
            return 200, {"images": refs}
        elif rest.startswith("/images/"):
            image_id = rest[len("/images/"):]
            if "/" not in image_id:
                if method == "GET":
                    return 200, self._image(self._get_image(cid, image_id))
                if method == "DELETE":
                    with self.lock:
                        self._get_image(cid, image_id)
                        del self.images[image_id]
                    return 200, {}
        raise ApiError(404, "path %s (%s) not found" % (path, method))

    def _jobs_of(self, cid):
        with self.lock:
            return sorted((j for j in self.jobs.values() if j["_workspace"] == cid),
                          key=lambda j: j["_created"])

    def _job(self, cid, job_id):
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job["_workspace"] != cid:
                raise ApiError(404, "job %s not found in cloud instance %s" % (job_id, cid))
            return job

    def _get_image(self, cid, image_id):
        with self.lock:
            img = self.images.get(image_id)
            if img is None or img["_workspace"] != cid:
                raise ApiError(404, "image does not exist. ID: %s" % image_id)
            return img

    @staticmethod
    def _public_job(job):
        return dict((k, v) for k, v in job.items() if not k.startswith("_"))

    @staticmethod
    def _image_reference(img):
        keys = ("imageID", "name", "state", "description", "href", "creationDate", "lastUpdateDate",
                "storageType", "storagePool", "specifications")
        return dict((k, img[k]) for k in keys if k in img)

    @staticmethod
    def _image(img):
        return dict((k, v) for k, v in img.items() if not k.startswith("_"))

    def last_import(self, cid):
        jobs = [j for j in self._jobs_of(cid) if j["operation"]["action"] == "imageImport"]
        if not jobs:
            raise ApiError(404, "image import job not found for cloud instance %s" % cid)
        return 200, self._public_job(jobs[-1])

    def delete_job(self, cid, job_id):
        with self.lock:
            job = self._job(cid, job_id)
            if job["status"]["state"] in ALL_PENDING:
                job["_cancelled"] = True
            del self.jobs[job_id]
        return 200, {}

    def validate_import(self, zone, body):
        if not isinstance(body, dict):
            raise ApiError(400, "bad request: the body must be a CreateCosImageImportJob JSON object")
        for field in ("imageName", "bucketName", "imageFilename", "region"):
            if field not in body or body[field] is None:
                raise validation_error("%s in body is required" % field)
            if not isinstance(body[field], str) or not body[field].strip():
                raise ApiError(400, "bad request: %s must be a non-empty string" % field)
        unknown = [k for k in body if k not in KNOWN_BODY_FIELDS]
        if unknown:
            raise ApiError(400, "bad request: unknown field(s) in body: %s" % ", ".join(sorted(unknown)))
        if body.get("bucketAccess") is not None and body["bucketAccess"] not in BUCKET_ACCESS:
            raise validation_error("bucketAccess in body should be one of [public private]", code=605)
        if body.get("osType") not in (None, "") and body["osType"] not in OS_TYPES:
            raise validation_error("osType in body should be one of [aix ibmi rhel sles]", code=605)
        if body["region"] not in COS_REGIONS:
            raise ApiError(400, "bad request: region %s is not a supported Cloud Object Storage region; "
                           "supported regions: %s" % (body["region"], ", ".join(COS_REGIONS)))
        bucket = body["bucketName"].split("/", 1)[0]
        if not re.match(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket) or re.match(r"^\d+\.\d+\.\d+\.\d+$", bucket):
            raise ApiError(400, "bad request: bucketName %s is not a valid bucket name" % body["bucketName"])
        access = body.get("bucketAccess") or "private"
        if access == "private" and not (body.get("accessKey") and body.get("secretKey")):
            raise ApiError(400, "bad request: accessKey and secretKey are required for a bucket with private access")
        if body.get("checksum") and "satloc" not in zone:
            raise ApiError(400, "bad request: checksum is only supported on on-premises (Satellite) locations; "
                           "zone %s is not one" % zone)
        if "checksum" in body and not isinstance(body["checksum"], bool):
            raise validation_error("checksum in body must be of type boolean", code=600)
        if body.get("storageType") and body["storageType"] not in STORAGE_TYPES:
            raise ApiError(400, "bad request: storageType %s is not available in zone %s; available: %s"
                           % (body["storageType"], zone, ", ".join(STORAGE_TYPES)))
        aff = body.get("storageAffinity")
        if aff is not None:
            if not isinstance(aff, dict):
                raise validation_error("storageAffinity in body must be of type object", code=600)
            if aff.get("affinityPolicy") is not None and aff["affinityPolicy"] not in AFFINITY_POLICIES:
                raise validation_error("storageAffinity.affinityPolicy in body should be one of "
                                       "[affinity anti-affinity]", code=605)
        det = body.get("importDetails")
        if det is not None:
            if not isinstance(det, dict):
                raise validation_error("importDetails in body must be of type object", code=600)
            for field, allowed in (("licenseType", LICENSE_TYPES), ("product", PRODUCTS), ("vendor", VENDORS)):
                if det.get(field) is None:
                    raise validation_error("importDetails.%s in body is required" % field)
                if det[field] not in allowed:
                    raise validation_error("importDetails.%s in body should be one of [%s]"
                                           % (field, " ".join(allowed)), code=605)
        tags = body.get("userTags")
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            raise validation_error("userTags in body must be of type array of strings", code=600)
        name = body["imageFilename"].lower()
        if not name.endswith(ARCHIVE_SUFFIXES) and not body.get("osType"):
            raise ApiError(400, "bad request: osType is required to import the raw image %s" % body["imageFilename"])

    def create_import(self, cid, zone, body):
        self.validate_import(zone, body)
        with self.lock:
            active = [j for j in self._jobs_of(cid) if j["status"]["state"] in ALL_PENDING]
            if active:
                raise ApiError(409, "conflict: image import job %s is still %s in cloud instance %s; "
                               "only one image import job can run at a time"
                               % (active[-1]["id"], active[-1]["status"]["state"], cid))
            job_id = str(uuid.uuid4())
            created = time.time()
            fail_message = self.faults.get("fail_next_job")
            self.faults["fail_next_job"] = None
            job = {
                "id": job_id,
                "operation": {"action": "imageImport", "target": "image", "id": body["imageName"]},
                "status": {"state": self.faults["pending_states"][0], "progress": "0%", "message": ""},
                "createTimestamp": now_iso(created),
                "_workspace": cid, "_zone": zone, "_created": created, "_body": dict(body),
                "_fail_message": fail_message, "_states_seen": [self.faults["pending_states"][0]],
            }
            self.jobs[job_id] = job
            lost = int(self.faults.get("gateway_timeout_after_create") or 0)
            if lost > 0:
                self.faults["gateway_timeout_after_create"] = lost - 1
        threading.Thread(target=self._run_job, args=(job_id,), daemon=True,
                         name="job-%s" % job_id[:8]).start()
        if lost > 0:
            raise ApiError(504, "gateway timeout: the upstream service did not answer in time")
        return 202, {"id": job_id, "href": "/pcloud/v1/cloud-instances/%s/jobs/%s" % (cid, job_id)}

    # the import job ------------------------------------------------------------
    def _set_state(self, job, state, progress=None, message=None):
        with self.lock:
            if job.get("_cancelled"):
                return False
            job["status"]["state"] = state
            if progress is not None:
                job["status"]["progress"] = progress
            if message is not None:
                job["status"]["message"] = message
            if not job["_states_seen"] or job["_states_seen"][-1] != state:
                job["_states_seen"].append(state)
            return True

    def _pause(self, job):
        with self.lock:
            seconds = float(self.faults["state_seconds"])
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if job.get("_cancelled"):
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return not job.get("_cancelled")

    def _run_job(self, job_id):
        with self.lock:
            job = self.jobs.get(job_id)
            states = list(self.faults["pending_states"])
        if job is None:
            return
        body = job["_body"]
        try:
            steps = len(states)
            for i, state in enumerate(states):
                if not self._set_state(job, state, progress="%d%%" % (i * 80 // steps)):
                    return
                if not self._pause(job):
                    return
                if state == states[-1]:
                    break
            if job["_fail_message"]:
                self._set_state(job, "failed", message=job["_fail_message"])
                return
            try:
                info = self._download(body)
            except DownloadError as e:
                self._set_state(job, "failed", message="imageImport operation failed::%s" % e)
                return
            if not self._set_state(job, states[-1], progress="95%"):
                return
            image = self._make_image(job, info)
            with self.lock:
                if job.get("_cancelled"):
                    return
                self.images[image["imageID"]] = image
                job["_image_id"] = image["imageID"]
            self._set_state(job, "completed", progress="100%", message="")
        except Exception as e:  # a bug here must show as a failed job, not a job pending forever
            traceback.print_exc()
            self._set_state(job, "failed", message="imageImport operation failed::internal error: %s" % e)

    def _download(self, body):
        """Read the object like the service does; returns size, sha256 and what the OVF says."""
        import boto3
        import botocore.exceptions
        from botocore import UNSIGNED
        from botocore.config import Config

        name = body["imageFilename"]
        parts = body["bucketName"].split("/", 1)
        bucket = parts[0]
        key = (parts[1].strip("/") + "/" + name) if len(parts) > 1 and parts[1].strip("/") else name
        if body["region"] != self.cos_region:
            raise DownloadError("download of image file %s has failed, error:bucket %s not found in region %s"
                                % (name, bucket, body["region"]))
        access = body.get("bucketAccess") or "private"
        if access == "public":
            cfg = Config(signature_version=UNSIGNED, s3={"addressing_style": "path"},
                         retries={"max_attempts": 1})
            client = boto3.client("s3", endpoint_url=self.cos_endpoint, region_name="us-east-1", config=cfg)
        else:
            cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})
            client = boto3.client("s3", endpoint_url=self.cos_endpoint, region_name="us-east-1", config=cfg,
                                  aws_access_key_id=body["accessKey"], aws_secret_access_key=body["secretKey"])
        try:
            obj = client.get_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise DownloadError("download of image file %s has failed, error:file %s not found" % (name, name))
            if code == "NoSuchBucket":
                raise DownloadError("download of image file %s has failed, error:bucket %s not found" % (name, bucket))
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidClientTokenId"):
                raise DownloadError("download of image file %s has failed, error:Access Denied to bucket %s (%s)"
                                    % (name, bucket, code))
            raise DownloadError("download of image file %s has failed, error:%s" % (name, code or e))
        except botocore.exceptions.BotoCoreError as e:
            raise DownloadError("download of image file %s has failed, error:%s" % (name, e))
        reader = HashingReader(obj["Body"])
        ovf = None
        try:
            with tarfile.open(fileobj=reader, mode="r|*") as tar:
                for member in tar:
                    if member.isfile() and member.name.lower().endswith(".ovf") and member.size < 4 * 1024 * 1024:
                        f = tar.extractfile(member)
                        ovf = f.read().decode("utf-8", "replace") if f else None
        except (tarfile.TarError, EOFError, OSError):
            ovf = None
        reader.drain()
        if reader.size == 0:
            raise DownloadError("download of image file %s has failed, error:file %s is empty" % (name, name))
        return {"size": reader.size, "sha256": reader.sha256.hexdigest(), "ovf": ovf}

    def _make_image(self, job, info):
        body = job["_body"]
        now = time.time()
        image_id = str(uuid.uuid4())
        meta = ovf_facts(info["ovf"]) if info["ovf"] else {}
        os_type = body.get("osType") or meta.get("os") or "unknown"
        arch = meta.get("architecture") or "ppc64"
        size_gb = meta.get("capacity_gb") or max(1, int(math.ceil(info["size"] / float(1 << 30))))
        storage_type = body.get("storageType") or "tier3"
        pool = body.get("storagePool") or "%s-Flash-1" % storage_type.capitalize()
        cid = job["_workspace"]
        return {
            "imageID": image_id,
            "name": body["imageName"],
            "state": "active",
            "description": "",
            "href": "/pcloud/v1/cloud-instances/%s/images/%s" % (cid, image_id),
            "creationDate": now_iso(now),
            "lastUpdateDate": now_iso(now),
            "storageType": storage_type,
            "storagePool": pool,
            "specifications": {
                "architecture": arch,
                "containerFormat": "bare",
                "diskFormat": "raw",
                "endianness": "little-endian" if arch.endswith("le") else "big-endian",
                "hypervisorType": "phyp",
                "imageType": "",
                "operatingSystem": os_type,
                "sourceChecksum": info["sha256"],
            },
            "size": size_gb,
            "maxImageVolumeSize": size_gb,
            "volumes": [{"volumeID": str(uuid.uuid4()), "name": "%s-boot-0" % body["imageName"],
                         "size": size_gb, "bootable": True}],
            "servers": [],
            "userTags": list(body.get("userTags") or []),
            "_workspace": cid,
            "_job": job["id"],
            "_object_size": info["size"],
        }


class DownloadError(Exception):
    pass


class HashingReader(io.RawIOBase):
    """File-like wrapper of a streaming body that hashes and counts what goes through."""

    def __init__(self, stream):
        super(HashingReader, self).__init__()
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.size = 0

    def readable(self):
        return True

    def read(self, n=-1):
        data = self.stream.read(n if n is not None and n >= 0 else None)
        if data:
            self.sha256.update(data)
            self.size += len(data)
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def drain(self):
        while self.read(1 << 20):
            pass


def ovf_facts(text):
    """Architecture, OS and disk capacity (GiB) from an OVF descriptor, by cheap pattern matching."""
    facts = {}
    low = text.lower()
    if "ppc64le" in low or "ppc64_le" in low:
        facts["architecture"] = "ppc64le"
    elif "ppc64" in low or "power" in low:
        facts["architecture"] = "ppc64"
    section = re.search(r"<(?:\w+:)?OperatingSystemSection\b(.*?)</(?:\w+:)?OperatingSystemSection>", text, re.S | re.I)
    hay = (section.group(0) if section else text).lower()
    for needle, os_type in (("aix", "aix"), ("ibm i", "ibmi"), ("ibmi", "ibmi"), ("os400", "ibmi"),
                            ("red hat", "rhel"), ("rhel", "rhel"), ("suse", "sles"), ("sles", "sles")):
        if needle in hay:
            facts["os"] = os_type
            break
    caps = re.findall(r"<(?:\w+:)?Disk\b[^>]*>", text, re.I)
    total = 0.0
    for disk in caps:
        cap = re.search(r"capacity=\"(\d+)\"", disk)
        unit = re.search(r"capacityAllocationUnits=\"([^\"]+)\"", disk)
        if not cap:
            continue
        value = float(cap.group(1))
        mult = 1.0
        if unit:
            m = re.search(r"2\s*\^\s*(\d+)", unit.group(1))
            if m:
                mult = float(2 ** int(m.group(1)))
        total += value * mult
    if total:
        facts["capacity_gb"] = max(1, int(math.ceil(total / float(1 << 30))))
    return facts


class Handler(BaseHTTPRequestHandler):
    server_version = "sandbox-powervs/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def emu(self):
        return self.server.emulator

    def log_message(self, fmt, *args):  # one line per request on stderr, no bodies (they hold keys)
        sys.stderr.write("%s %s\n" % (now_iso(), fmt % args))

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        raw = self._read_body()
        status, body, headers = 500, {}, {}
        try:
            if path.startswith("/_sandbox/"):
                status, body = self._sandbox(method, path, raw)
            elif path == "/identity/token":
                inj = self.emu.injected_error(method, path, "iam")
                if inj:
                    status, body, headers = inj
                elif method != "POST":
                    status, body = 405, {"errorCode": "BXNIM0100E", "errorMessage": "method not allowed"}
                else:
                    form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
                    status, body = self.emu.issue_token(form)
            else:
                inj = self.emu.injected_error(method, path, "pcloud")
                if inj:
                    status, body, headers = inj
                else:
                    payload = None
                    if raw:
                        try:
                            payload = json.loads(raw.decode("utf-8"))
                        except ValueError:
                            raise ApiError(400, "bad request: the body is not valid JSON")
                    status, body = self.emu.route(method, path, payload, self.headers)
        except ApiError as e:
            status, body = e.status, e.body
        except Exception as e:  # never hang a client on an emulator bug
            traceback.print_exc()
            status, body = api_error(500, "internal server error: %s" % e)
        if not path.startswith("/_sandbox/"):
            self.emu.log_request(method, path, status)
        self._send(status, body, headers)

    def _sandbox(self, method, path, raw):
        if path == "/_sandbox/state" and method == "GET":
            return 200, self.emu.snapshot()
        if path == "/_sandbox/reset" and method == "POST":
            self.emu.reset()
            return 200, {"reset": True}
        if path == "/_sandbox/faults":
            if method == "GET":
                return 200, self.emu.faults
            if method == "POST":
                try:
                    new = json.loads(raw.decode("utf-8") or "{}")
                except ValueError:
                    raise ApiError(400, "faults: the body is not valid JSON")
                return 200, self.emu.set_faults(new)
        raise ApiError(404, "sandbox path %s (%s) not found" % (path, method))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PUT(self):
        self._handle("PUT")


def parse_workspace(text):
    guid, sep, zone = text.partition(":")
    if not sep or not guid or not zone:
        raise argparse.ArgumentTypeError("--workspace takes GUID:ZONE, got %r" % text)
    return guid, zone


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--api-key", action="append", required=True, dest="api_keys",
                   help="an API key IAM accepts (repeatable)")
    p.add_argument("--account-id", required=True)
    p.add_argument("--workspace", action="append", required=True, type=parse_workspace, dest="workspaces",
                   help="GUID:ZONE of a workspace (cloud instance) of the account (repeatable)")
    p.add_argument("--cos-endpoint", required=True, help="S3 endpoint URL the import jobs download from")
    p.add_argument("--cos-region", default="us-east", help="the COS region that endpoint stands for")
    p.add_argument("--state-seconds", type=float, default=0.5, help="seconds a job spends in each state")
    p.add_argument("--token-lifetime", type=int, default=3600, help="seconds a token is valid")
    args = p.parse_args(argv)
    emulator = Emulator(args.api_keys, args.account_id, args.workspaces, args.cos_endpoint, args.cos_region,
                        state_seconds=args.state_seconds, token_lifetime=args.token_lifetime)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.emulator = emulator
    sys.stderr.write("%s powervs emulator on http://%s:%s (workspaces %s)\n"
                     % (now_iso(), args.host, args.port, ", ".join("%s:%s" % w for w in args.workspaces)))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
