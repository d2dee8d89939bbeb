"""PowerVS + IAM: the emulator of sandbox/emulators/powervs.py, reading images from the COS peer."""

import json
import os
import secrets
import urllib.request
import uuid

from sandbox.peers.base import PeerError, ProcessPeer, http_ok

ZONE = "lon04"


class PowervsPeer(ProcessPeer):
    """IBM Cloud IAM token endpoint + Power Virtual Server pcloud API emulator (cos-images import)."""

    name = "powervs"
    needs = ("cos",)

    def prepare(self):
        self.api_key = secrets.token_urlsafe(33)
        self.account_id = secrets.token_hex(16)
        self.cloud_instance_id = str(uuid.uuid4())
        self.zone = ZONE
        # a second workspace of the same account, in another zone, for "wrong zone" tests
        self.other_cloud_instance_id = str(uuid.uuid4())
        self.other_zone = "dal10"

    def command(self):
        cos = self.ctx.peers.get("cos")
        if cos is None:
            raise PeerError(self.name, "the cos peer must be started first")
        script = os.path.join(self.ctx.repo_root, "sandbox", "emulators", "powervs.py")
        return [self.ctx.python, script, "--port", str(self.port),
                "--api-key", self.api_key, "--account-id", self.account_id,
                "--workspace", "%s:%s" % (self.cloud_instance_id, self.zone),
                "--workspace", "%s:%s" % (self.other_cloud_instance_id, self.other_zone),
                "--cos-endpoint", cos.endpoint, "--cos-region", cos.inventory()["cos_region"],
                "--state-seconds", "0.5"]

    def ready(self):
        return http_ok(self.endpoint + "/_sandbox/state")

    @property
    def endpoint(self):
        return "http://127.0.0.1:%s" % self.port

    @property
    def crn(self):
        return "crn:v1:bluemix:public:power-iaas:%s:a/%s:%s::" % (self.zone, self.account_id, self.cloud_instance_id)

    # helpers for tests ------------------------------------------------------
    def admin(self, path, payload=None):
        """GET (payload None) or POST JSON to /_sandbox/<path>; returns the decoded answer."""
        url = "%s/_sandbox/%s" % (self.endpoint, path)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def inventory(self):
        return {
            "pvs_api_key": self.api_key,
            # base URL of IAM: the modules call <pvs_iam_url>/identity/token (a full token URL works too)
            "pvs_iam_url": self.endpoint,
            "pvs_endpoint_url": self.endpoint,
            "pvs_zone": self.zone,
            "pvs_cloud_instance_id": self.cloud_instance_id,
            "pvs_account_id": self.account_id,
            "pvs_crn": self.crn,
            "pvs_other_cloud_instance_id": self.other_cloud_instance_id,
            "pvs_other_zone": self.other_zone,
        }
