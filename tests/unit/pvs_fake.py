"""A scripted fake of IAM + the PowerVS pcloud API for unit tests, on top of the `responses` package.

Usage::

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakePowerVS(rsps)
        fake.add_image("rhel", created="2026-01-01T00:00:00.000Z")
        ...
        fake.calls  # [(method, path)] of the pcloud calls, in order
"""

import base64
import json
import re
import time
import uuid

import responses

IAM = "https://iam.cloud.ibm.com"
ENDPOINT = "https://lon.power-iaas.cloud.ibm.com"
ZONE = "lon04"
ACCOUNT = "acct0123"
WORKSPACE = "ws-0001"
API_KEY = "apikey-secret-value"
CRN = "crn:v1:bluemix:public:power-iaas:%s:a/%s:%s::" % (ZONE, ACCOUNT, WORKSPACE)


def make_jwt(lifetime=3600):
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return "%s.%s.%s" % (enc({"alg": "RS256", "kid": "k"}), enc({"iat": now, "exp": now + lifetime,
                                                                 "jti": uuid.uuid4().hex}), "c2ln")


def conn_args(**extra):
    args = dict(api_key=API_KEY, zone=ZONE, account_id=ACCOUNT, cloud_instance_id=WORKSPACE)
    args.update(extra)
    return args


class FakePowerVS(object):
    def __init__(self, rsps, endpoint=ENDPOINT, iam=IAM, workspace=WORKSPACE, crn=CRN, api_key=API_KEY):
        self.endpoint = endpoint
        self.workspace = workspace
        self.crn = crn
        self.api_key = api_key
        self.images = []
        self.jobs = {}
        self.job_order = []
        #: job id -> states the job reports on its next GETs (the last one stays)
        self.scripts = {}
        #: the states a newly posted job walks through, then its final state
        self.next_script = ["queued", "completed"]
        self.fail_message = None
        #: forced answers: list of dicts {method, path (regex), status, body, headers, count, create_job}
        self.forced = []
        self.calls = []
        self.token_requests = 0
        self.tokens = set()
        self.revoked = set()
        rsps.add_callback(responses.POST, iam + "/identity/token", callback=self._token)
        pattern = re.compile(re.escape(endpoint) + r"/pcloud/v1/cloud-instances/.*")
        for method in (responses.GET, responses.POST, responses.DELETE):
            rsps.add_callback(method, pattern, callback=self._pcloud)

    # setup ---------------------------------------------------------------------
    def add_image(self, name, created="2026-01-01T00:00:00.000Z", image_id=None):
        image_id = image_id or str(uuid.uuid4())
        self.images.append({"imageID": image_id, "name": name, "state": "active", "description": "",
                            "href": "/pcloud/v1/cloud-instances/%s/images/%s" % (self.workspace, image_id),
                            "creationDate": created, "lastUpdateDate": created, "storageType": "tier3",
                            "storagePool": "Tier3-Flash-1",
                            "specifications": {"architecture": "ppc64", "operatingSystem": "rhel"}})
        return image_id

    def add_job(self, image_name, states, created=None):
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = {"id": job_id, "operation": {"action": "imageImport", "target": "image", "id": image_name},
                             "status": {"state": states[0], "progress": "0%", "message": ""},
                             "createTimestamp": created or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                             "_name": image_name}
        self.scripts[job_id] = list(states)
        self.job_order.append(job_id)
        return job_id

    def force(self, method, path, status, body=None, headers=None, count=1, create_job=False):
        self.forced.append(dict(method=method, path=path, status=status, body=body or {}, headers=headers or {},
                                count=count, create_job=create_job))

    def posts(self):
        return [c for c in self.calls if c[0] == "POST"]

    # handlers --------------------------------------------------------------------
    def _token(self, request):
        self.token_requests += 1
        form = dict(x.split("=", 1) for x in (request.body or "").split("&") if "=" in x)
        if form.get("apikey") != self.api_key:
            return 400, {}, json.dumps({"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found"})
        tok = make_jwt()
        self.tokens.add(tok)
        return 200, {}, json.dumps({"access_token": tok, "refresh_token": "r", "token_type": "Bearer",
                                    "expires_in": 3600, "expiration": int(time.time()) + 3600})

    @staticmethod
    def _err(status, description, phrase):
        return status, {}, json.dumps({"code": 0, "description": description, "error": phrase, "message": ""})

    def _pcloud(self, request):
        path = request.path_url.split("?")[0]
        self.calls.append((request.method, path))
        auth = request.headers.get("Authorization", "")
        tok = auth[len("Bearer "):]
        if tok not in self.tokens or tok in self.revoked:
            return self._err(401, "token is not valid", "unauthorized")
        if request.headers.get("CRN") != self.crn:
            return self._err(403, "CRN %s is not allowed" % request.headers.get("CRN"), "forbidden")
        prefix = "/pcloud/v1/cloud-instances/%s" % self.workspace
        if not path.startswith(prefix):
            return self._err(404, "cloud instance not found", "not found")
        rest = path[len(prefix):]
        for f in self.forced:
            if f["count"] > 0 and f["method"] == request.method and re.search(f["path"], rest):
                f["count"] -= 1
                if f["create_job"]:
                    self._create(json.loads(request.body))
                return f["status"], f["headers"], json.dumps(f["body"])
        if rest == "/images" and request.method == "GET":
            return 200, {}, json.dumps({"images": self.images})
        m = re.match(r"^/images/([^/]+)$", rest)
        if m and request.method == "GET":
            for img in self.images:
                if img["imageID"] == m.group(1):
                    return 200, {}, json.dumps(dict(img, size=20, volumes=[], servers=[], userTags=[]))
            return self._err(404, "image does not exist. ID: %s" % m.group(1), "not found")
        if rest == "/cos-images" and request.method == "GET":
            if not self.job_order:
                return self._err(404, "image import job not found", "not found")
            return 200, {}, json.dumps(self._public(self.jobs[self.job_order[-1]]))
        if rest == "/cos-images" and request.method == "POST":
            body = json.loads(request.body)
            active = [j for j in self.jobs.values() if j["status"]["state"] not in ("completed", "failed")]
            if active:
                return self._err(409, "image import job %s is still active" % active[-1]["id"], "conflict")
            job_id = self._create(body)
            return 202, {}, json.dumps({"id": job_id, "href": "/jobs/" + job_id})
        m = re.match(r"^/jobs/([^/]+)$", rest)
        if m and request.method == "GET":
            job = self.jobs.get(m.group(1))
            if job is None:
                return self._err(404, "job not found", "not found")
            self._advance(job)
            return 200, {}, json.dumps(self._public(job))
        return self._err(404, "no route %s %s" % (request.method, rest), "not found")

    def _create(self, body):
        self.last_body = body
        job_id = self.add_job(body["imageName"], list(self.next_script))
        if self.fail_message:
            self.jobs[job_id]["_fail"] = self.fail_message
            self.fail_message = None
        return job_id

    def _advance(self, job):
        script = self.scripts[job["id"]]
        state = script.pop(0) if len(script) > 1 else script[0]
        if state == "completed" and job.get("_fail"):
            state = "failed"
            job["status"]["message"] = job["_fail"]
        if state == "completed" and job["status"]["state"] != "completed":
            self.add_image(job["_name"], created=time.strftime("%Y-%m-%dT%H:%M:%S.999Z", time.gmtime()))
        job["status"]["state"] = state

    @staticmethod
    def _public(job):
        return dict((k, v) for k, v in job.items() if not k.startswith("_"))
