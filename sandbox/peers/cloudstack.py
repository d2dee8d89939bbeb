"""CloudStack: the API emulator of sandbox/emulators/cloudstack.py.

The unmanaged VMs come from the vcsim peer when the sandbox has one (read with pyvmomi), else
from sandbox/emulators/cloudstack_unmanaged.json (VMs made to break each import rule).
"""

import json
import os
import secrets
import urllib.request

from sandbox.peers.base import PeerError, ProcessPeer, http_ok

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATORS = os.path.join(os.path.dirname(HERE), "emulators")
DEFAULT_INSTANCES = os.path.join(EMULATORS, "cloudstack_unmanaged.json")
ZONE = "zone1"
DEFAULT_CLUSTER = "DC0_C0"


class _NeedsVcsimWhenRegistered(type):
    """``needs`` is ("vcsim",) exactly when a vcsim peer is registered in PEERS."""

    @property
    def needs(cls):
        from sandbox.peers import PEERS
        return ("vcsim",) if any(p.name == "vcsim" for p in PEERS) else ()


class CloudstackPeer(ProcessPeer, metaclass=_NeedsVcsimWhenRegistered):
    """Apache CloudStack API emulator (signed requests, importUnmanagedInstance rules, async jobs)."""

    name = "cloudstack"
    job_seconds = 0.5

    def prepare(self):
        self.api_key = secrets.token_urlsafe(48)
        self.secret_key = secrets.token_urlsafe(48)
        self.vcenter = None
        self.cluster = DEFAULT_CLUSTER

    def _vcenter(self):
        vc = self.ctx.peers.get("vcsim")
        if vc is None:
            return None
        inv = vc.inventory()
        try:
            return {"url": "https://%s:%s/sdk" % (inv["vcenter_hostname"], inv["vcenter_port"]),
                    "username": inv["vcenter_username"], "password": inv["vcenter_password"]}
        except KeyError as e:
            raise PeerError(self.name, "the vcsim peer's inventory lacks %s" % e)

    def command(self):
        script = os.path.join(EMULATORS, "cloudstack.py")
        argv = [self.ctx.python, script, "--port", str(self.port), "--job-seconds", str(self.job_seconds)]
        self.vcenter = self._vcenter()
        if self.vcenter:
            argv += ["--vcenter-url", self.vcenter["url"], "--vcenter-username", self.vcenter["username"],
                     "--auto-networks", "--auto-storage-pools"]
        else:
            argv += ["--instances", DEFAULT_INSTANCES]
        return argv

    def env(self):
        env = {"CLOUDSTACK_EMULATOR_API_KEY": self.api_key, "CLOUDSTACK_EMULATOR_SECRET_KEY": self.secret_key}
        if self.vcenter:
            env["CLOUDSTACK_EMULATOR_VCENTER_PASSWORD"] = self.vcenter["password"]
        return env

    def ready(self):
        return http_ok(self.endpoint + "/_sandbox/state")

    def after_start(self):
        state = self.admin("state")
        clusters = [c["name"] for c in state["clusters"] if c["hypervisortype"] == "VMware"]
        from_vcenter = [c for c in state.get("vcenter_clusters") or [] if c in clusters]
        if DEFAULT_CLUSTER in clusters and (not from_vcenter or DEFAULT_CLUSTER in from_vcenter):
            self.cluster = DEFAULT_CLUSTER
        elif from_vcenter:
            self.cluster = from_vcenter[0]
        else:
            raise PeerError(self.name, "no VMware cluster in the emulator's seed")

    @property
    def endpoint(self):
        return "http://127.0.0.1:%s" % self.port

    @property
    def api_url(self):
        return self.endpoint + "/client/api"

    def inventory(self):
        return {
            "cloudstack_api_url": self.api_url,
            "cloudstack_api_key": self.api_key,
            "cloudstack_api_secret": self.secret_key,
            "cloudstack_zone": ZONE,
            "cloudstack_cluster": self.cluster,
        }

    # helpers for tests ------------------------------------------------------
    def admin(self, path, payload=None):
        """GET (payload None) or POST JSON to /_sandbox/<path>; returns the decoded answer."""
        url = "%s/_sandbox/%s" % (self.endpoint, path)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read().decode("utf-8"))
