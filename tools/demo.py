#!/usr/bin/env python3
"""`make demo`: start the sandbox, run the main workflow end to end, show what happened.

Main workflow: PowerVC image -> OVA on the PowerVC host (over SSH) -> IBM COS
multipart upload -> Power Virtual Server import -> cleanup
(playbooks/powervc_to_powervs.yml). Everything runs against the local sandbox;
the sandbox is stopped at the end, leaving no process behind.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sandbox.launcher import Sandbox  # noqa: E402

PLAYBOOK = os.path.join(ROOT, "playbooks", "powervc_to_powervs.yml")


def banner(text):
    print("\n" + "=" * 78 + "\n" + text + "\n" + "=" * 78, flush=True)


def run_playbook(inventory, extra=None):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "install"))
    env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "yaml"
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, PLAYBOOK]
    for k, v in (extra or {}).items():
        argv += ["-e", "%s=%s" % (k, v)]
    t0 = time.monotonic()
    rc = subprocess.call(argv, env=env, cwd=ROOT)
    return rc, time.monotonic() - t0


def main():
    banner("vmimport.migrate demo: PowerVC -> IBM COS -> Power Virtual Server, on the local sandbox")
    with Sandbox(only=["powervc", "powervs"]) as sb:  # the peers this workflow talks to
        print("sandbox inventory: %s" % sb.inventory_file)
        vars_ = sb.inventory()["all"]["vars"]
        banner("1. first run: export, upload, import, clean up")
        rc, secs = run_playbook(sb.inventory_file)
        if rc != 0:
            print("demo: the playbook failed (rc=%s); see the output above" % rc)
            return rc
        banner("2. second run: everything is already there, nothing changes")
        rc2, secs2 = run_playbook(sb.inventory_file)
        if rc2 != 0:
            print("demo: the second run failed (rc=%s)" % rc2)
            return rc2
        banner("3. what happened")
        pvs = sb.ctx.peers.get("powervs")
        if pvs is not None:
            with urllib.request.urlopen("%s/_sandbox/state" % vars_["pvs_endpoint_url"]) as r:
                state = json.load(r)
            for img in state.get("images", []):
                print("PowerVS image %-20s %s  state=%s size=%s"
                      % (img.get("name"), img.get("imageID"), img.get("state"), img.get("size")))
            for job in state.get("jobs", []):
                print("PowerVS job   %s  %s" % (job.get("id"), json.dumps(job.get("status"))))
        cos = sb.ctx.peers["cos"]
        s3 = cos.client()
        for bucket in (vars_["cos_bucket"],):
            objs = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
            ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            print("COS bucket %s: %d object(s) left, %d incomplete multipart upload(s)" % (bucket, len(objs), len(ups)))
        print("first run %.1fs, second run %.1fs" % (secs, secs2))
    print("demo: done; the sandbox is stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
