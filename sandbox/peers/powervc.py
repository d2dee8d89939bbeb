"""PowerVC host: the ``powervc-image`` emulator on the sandbox SSH host, with its catalog and rc file."""

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import uuid

from sandbox.peers.base import Peer, PeerError

EMULATOR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "emulators", "powervc_image.py")
AUTH_URL = "https://powervc.sandbox.invalid:5000/v3/"
PROJECT = "ibm-default"
USERNAME = "vmimport-pvc"
MIB = 1024 * 1024
#: what the host's virtualenv installs for the upload step (the wheelhouse holds it and its deps)
WHEELHOUSE_REQUIREMENTS = ("ibm-cos-sdk",)


def _image_id(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vmimport-sandbox/powervc/%s" % name))


def default_images():
    """The catalog: small images (fast tests), a multi-volume one, a non-exportable one and a
    huge one (its reported size is far above any sandbox disk, for the free space preflight)."""
    return [
        {"name": "rhel83-small", "id": _image_id("rhel83-small"), "status": "active", "volumes": 1,
         "size_gb": 1, "size_bytes": 16 * MIB, "description": "RHEL 8.3 base image",
         "architecture": "ppc64", "os_distro": "rhel", "exportable": True},
        {"name": "aix72-base", "id": _image_id("aix72-base"), "status": "active", "volumes": 2,
         "size_gb": 2, "size_bytes": 24 * MIB, "description": "AIX 7.2 TL5 rootvg and datavg",
         "architecture": "ppc64", "os_distro": "aix", "exportable": True},
        {"name": "sles15-le", "id": _image_id("sles15-le"), "status": "active", "volumes": 1,
         "size_gb": 1, "size_bytes": 8 * MIB, "description": "",
         "architecture": "ppc64le", "os_distro": "sles", "exportable": True},
        {"name": "ibmi-legacy", "id": _image_id("ibmi-legacy"), "status": "active", "volumes": 1,
         "size_gb": 1, "size_bytes": 8 * MIB, "description": "IBM i 7.3 (raw disks, not exportable)",
         "architecture": "ppc64", "os_distro": "ibmi", "exportable": False},
        {"name": "rhel-huge", "id": _image_id("rhel-huge"), "status": "active", "volumes": 1,
         "size_gb": 1024 * 1024, "description": "1 PB of volumes: no sandbox disk can hold it",
         "architecture": "ppc64", "os_distro": "rhel", "exportable": True},
    ]


class PowervcPeer(Peer):
    """PowerVC host: `powervc-image` emulator, catalog, rc file and wheelhouse on the SSH host."""

    name = "powervc"
    needs = ("sshd",)

    def __init__(self, ctx):
        super(PowervcPeer, self).__init__(ctx)
        self.password = "pvc-" + secrets.token_urlsafe(18)
        self.username = USERNAME
        self.wheelhouse = ""
        self.wheelhouse_error = None

    # where things live -------------------------------------------------
    @property
    def sshd(self):
        return self.ctx.peers["sshd"]

    @property
    def cli(self):
        return os.path.join(self.sshd.remote_bin, "powervc-image")

    @property
    def catalog(self):
        """Path of the emulator's JSON (catalog, pace, faults); tests edit it with write_catalog()."""
        return os.path.join(self.sshd.remote_dir, "powervc-sandbox.json")

    @property
    def rc_file(self):
        return os.path.join(self.sshd.remote_dir, "powervcrc")

    @property
    def sessions_dir(self):
        return os.path.join(self.sshd.remote_dir, "sessions")

    @property
    def call_log(self):
        return os.path.join(self.sshd.remote_dir, "powervc-image.log")

    # hooks -------------------------------------------------------------
    def start(self):
        if not os.path.exists(EMULATOR):
            raise PeerError(self.name, "emulator %s is missing" % EMULATOR)
        with open(EMULATOR) as f:
            code = f.read()
        if not code.startswith("#!/usr/bin/python3"):
            code = "#!/usr/bin/python3\n" + code
        self._write(self.cli, code, 0o755)
        self.write_catalog(self.default_config())  # 0600: it holds the password
        self._write(self.rc_file, self.rc_text(), 0o644)
        # the sessions directory itself is the host preparation role's job; its parent is the
        # SSH user's sandbox folder, which the sshd peer made
        os.makedirs(os.path.dirname(self.sessions_dir), exist_ok=True)
        self._build_wheelhouse()

    def ready(self):
        return os.access(self.cli, os.X_OK) and os.path.exists(self.catalog)

    def default_config(self):
        return {
            "credentials": {"auth_url": AUTH_URL, "username": self.username, "password": self.password,
                            "project": PROJECT},
            "pace_mib_s": 100,
            "export_startup_seconds": 0.2,
            "disk_data": "random",
            "manifest": True,
            "log_file": os.path.basename(self.call_log),
            "images": default_images(),
            "faults": {},
        }

    def rc_text(self):
        return "\n".join([
            "# PowerVC connection file written by the vmimport.migrate sandbox.",
            "# No OS_PASSWORD here: the collection passes the password in the environment of",
            "# powervc-image only (module option 'password'), never on disk.",
            "export OS_IDENTITY_API_VERSION=3",
            "export OS_AUTH_URL=%s" % AUTH_URL,
            "export OS_CACERT=/etc/pki/tls/certs/powervc.crt",
            "export OS_REGION_NAME=RegionOne",
            "export OS_PROJECT_DOMAIN_NAME=Default",
            "export OS_PROJECT_NAME=%s" % PROJECT,
            "export OS_TENANT_NAME=$OS_PROJECT_NAME",
            "export OS_USER_DOMAIN_NAME=Default",
            "export OS_USERNAME=%s" % self.username,
            "export OS_COMPUTE_API_VERSION=2.46",
            "export OS_NETWORK_API_VERSION=2.0",
            "export OS_IMAGE_API_VERSION=2",
            "export OS_VOLUME_API_VERSION=2",
            "",
        ])

    # catalog for tests ---------------------------------------------------
    def read_catalog(self):
        with open(self.catalog) as f:
            return json.load(f)

    def write_catalog(self, data):
        tmp = self.catalog + ".sandbox-tmp"
        self._write(tmp, json.dumps(data, indent=2, sort_keys=True), 0o600)
        os.replace(tmp, self.catalog)

    @contextlib.contextmanager
    def catalog_changed(self, change):
        """with peer.catalog_changed(lambda cfg: ...): the catalog as changed, restored afterwards."""
        saved = self.read_catalog()
        data = json.loads(json.dumps(saved))
        change(data)
        self.write_catalog(data)
        try:
            yield data
        finally:
            self.write_catalog(saved)

    def calls(self):
        """The emulator's invocations so far (JSON lines of its log), oldest first."""
        try:
            with open(self.call_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    # helpers -------------------------------------------------------------
    def _chown(self, path):
        if os.geteuid() == 0:
            os.chown(path, self.sshd.uid, self.sshd.gid)

    def _write(self, path, text, mode):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        self._chown(path)

    def _build_wheelhouse(self):
        """Wheels of ibm-cos-sdk for the host's virtualenv (offline install with --no-index).

        Built once with the sandbox's pip into <repo>/.cache/wheels/powervc-host and reused; a
        failure (no network on a first run) is reported, not fatal: only the tests of the host
        preparation role need it, and they skip with the reason."""
        cache = os.path.join(self.ctx.repo_root, ".cache", "wheels", "powervc-host")
        marker = os.path.join(cache, ".complete")
        wanted = "\n".join(WHEELHOUSE_REQUIREMENTS) + "\n"
        os.makedirs(cache, exist_ok=True)
        with open(os.path.join(os.path.dirname(cache), ".powervc-host.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # sandboxes started in parallel build it once
            done = os.path.exists(marker) and open(marker).read() == wanted
            if not done:
                os.makedirs(self.ctx.log_dir, exist_ok=True)
                log = os.path.join(self.ctx.log_dir, "%s-wheelhouse.log" % self.name)
                with open(log, "ab") as out:
                    res = subprocess.run([self.ctx.python, "-m", "pip", "wheel", "--disable-pip-version-check",
                                          "--wheel-dir", cache] + list(WHEELHOUSE_REQUIREMENTS),
                                         stdout=out, stderr=subprocess.STDOUT)
                if res.returncode != 0:
                    self.wheelhouse_error = "pip wheel %s failed (rc=%s), see %s" % (
                        " ".join(WHEELHOUSE_REQUIREMENTS), res.returncode, log)
                    print("sandbox: WARNING %s; the host preparation role cannot install offline"
                          % self.wheelhouse_error)
                    return
                with open(marker, "w") as f:
                    f.write(wanted)
        target = os.path.join(self.sshd.remote_dir, "wheels")
        os.makedirs(target, exist_ok=True)
        self._chown(target)
        for name in os.listdir(cache):
            if name.endswith(".whl"):
                dest = os.path.join(target, name)
                shutil.copyfile(os.path.join(cache, name), dest)
                os.chmod(dest, 0o644)
                self._chown(dest)
        self.wheelhouse = target

    # inventory -----------------------------------------------------------
    def host_vars(self):
        hv = dict(self.sshd.host_vars())
        hv.update({
            "powervc_rc_file": self.rc_file,
            "powervc_username": self.username,
            "powervc_password": self.password,
            "powervc_sessions_dir": self.sessions_dir,
            # what playbooks/powervc_to_powervs.yml moves from this host (make demo)
            "powervc_images": [{"name": "rhel83-small", "os_type": "rhel"},
                               {"name": "aix72-base", "target_name": "aix72-imported", "os_type": "aix"}],
            "powervc_wheelhouse": self.wheelhouse,
            # through the SSH session's PATH, like on a PowerVC host; a full path when the host
            # is reached with a local connection (no sshd SetEnv PATH then)
            "powervc_cli": self.cli if self.sshd.fallback else "powervc-image",
        })
        if self.wheelhouse_error:
            hv["powervc_wheelhouse_error"] = self.wheelhouse_error
        return hv

    def hosts(self):
        return {"powervc_hosts": {"powervc01": self.host_vars()}}

    def inventory(self):
        return {"powervc_sandbox_catalog": self.catalog}
