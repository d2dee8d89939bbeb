"""The CloudStack emulator itself: signature verification as CloudStack does it, error bodies,
async jobs, fault switches, paging, and the vcsim-backed source of unmanaged VMs."""

import datetime
import os
import sys
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.environ.get("VMIMPORT_COLLECTIONS_PATH", os.path.join(ROOT, ".build", "collections"))
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu  # noqa: E402
from sandbox.emulators import cloudstack as emu  # noqa: E402
from sandbox.peers.base import Context  # noqa: E402
from sandbox.peers.cloudstack import CloudstackPeer  # noqa: E402

cs_lib = pytest.importorskip("cs")

AUTH_TEXT = "unable to verify user credentials and/or request signature"
CREDS = {"KEY": "s3cret"}


def signed(params, secret="s3cret", **extra):
    p = dict(params, apiKey="KEY", response="json", **extra)
    p["signature"] = csu.sign(p, secret)
    return p


def expires(delta_seconds):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S+0000")


# ---- signature verification (no server) -------------------------------------------------------
@pytest.mark.parametrize("value,encoded", [("a b", "a+b"), ("x~y", "x%7Ey"), ("a+b", "a%2Bb"), ("*._-", "*._-"),
                                           ("ä", "%C3%A4"), ("Network adapter 1", "Network+adapter+1")])
def test_java_urlencode(value, encoded):
    assert emu.java_urlencode(value) == encoded


def test_signature_base_is_sorted_encoded_and_lowercased():
    base = emu.signature_base({"command": "listZones", "name": "Zone 1", "apiKey": "AbC", "signature": "x"})
    assert base == "apikey=abc&command=listzones&name=zone%201"


@pytest.mark.parametrize("value", ["zone1", "a b", "x~y", "a+b&c=d", "Network adapter 1", "ä/ö:ü", ""])
def test_collection_signer_and_emulator_agree(value):
    p = signed({"command": "listZones", "name": value})
    assert emu.verify_request(p, CREDS)[0] is True


def test_cs_library_signs_tilde_differently_from_cloudstack():
    cs = cs_lib.CloudStack(endpoint="http://x/client/api", key="KEY", secret="s3cret")
    p = {"command": "listZones", "apiKey": "KEY", "response": "json", "name": "a~b"}
    cs._sign(p)
    ok, reason, dummy = emu.verify_request(p, CREDS)
    assert (ok, reason) == (False, "signature mismatch")
    p = {"command": "listZones", "apiKey": "KEY", "response": "json", "name": "a b"}
    cs._sign(p)
    assert emu.verify_request(p, CREDS)[0] is True


@pytest.mark.parametrize("mutate,reason", [
    (lambda p: p.update(name="other"), "signature mismatch"),
    (lambda p: p.pop("signature"), "missing apiKey or signature"),
    (lambda p: p.update(apiKey="NOPE"), "unknown apiKey"),
    (lambda p: p.update(signature=csu.sign(dict((k, v) for k, v in p.items() if k != "signature"), "wrong")),
     "signature mismatch"),
])
def test_rejected_requests(mutate, reason):
    p = signed({"command": "listZones", "name": "zone1"})
    mutate(p)
    assert emu.verify_request(p, CREDS)[:2] == (False, reason)


def test_signature_version_3_checks_expires():
    assert emu.verify_request(signed({"command": "listZones"}, signatureVersion="3", expires=expires(600)), CREDS)[0]
    assert emu.verify_request(signed({"command": "listZones"}, signatureVersion="3", expires=expires(-5)),
                              CREDS)[:2] == (False, "request expired")
    assert emu.verify_request(signed({"command": "listZones"}, signatureVersion="3"),
                              CREDS)[:2] == (False, "missing or malformed expires")
    assert emu.verify_request(signed({"command": "listZones"}, signatureVersion="3", expires="tomorrow"),
                              CREDS)[:2] == (False, "missing or malformed expires")
    # without signatureVersion=3 an old expires is not checked (as in CloudStack)
    assert emu.verify_request(signed({"command": "listZones"}, expires=expires(-5)), CREDS)[0]


# ---- the running emulator ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    peer = CloudstackPeer(Context(str(tmp_path_factory.mktemp("cs-emu")), ROOT))
    peer.prepare()
    peer.start()
    peer.after_start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def fresh(emulator):
    emulator.admin("reset", {})
    return emulator


def client(peer, **kw):
    return csu.CloudStackClient(peer.api_url, peer.api_key, peer.secret_key, sleep=lambda s: None, **kw)


def raw(peer, params, secret=None, method="get"):
    p = dict(params, apiKey=peer.api_key, response="json", signatureVersion="3", expires=expires(600))
    p["signature"] = csu.sign(p, secret or peer.secret_key)
    if method == "get":
        return requests.get(peer.api_url, params=p, timeout=10)
    return requests.post(peer.api_url, data=p, timeout=10)


def test_401_body_is_cloudstacks(fresh):
    r = raw(fresh, {"command": "listZones"}, secret="wrong")
    assert r.status_code == 401
    assert r.json() == {"listzonesresponse": {"uuidList": [], "errorcode": 401, "errortext": AUTH_TEXT}}
    assert fresh.admin("state")["auth_failures"] == 1


def test_error_bodies(fresh):
    r = raw(fresh, {"command": "listUnmanagedInstances"})
    assert r.status_code == 431
    assert r.json()["listunmanagedinstancesresponse"] == {
        "uuidList": [], "errorcode": 431, "cserrorcode": 4350,
        "errortext": "Unable to execute API command listunmanagedinstances due to missing parameter clusterid"}
    r = raw(fresh, {"command": "listUnmanagedInstances", "clusterid": "nope"})
    assert "Invalid parameter clusterid value=nope" in r.json()["listunmanagedinstancesresponse"]["errortext"]
    r = raw(fresh, {"command": "deployVirtualMachine"})
    assert r.status_code == 432
    assert r.json()["deployvirtualmachineresponse"]["errortext"].startswith("The given command:deployVirtualMachine")


def test_post_and_paging(fresh):
    r = raw(fresh, {"command": "listNetworks", "page": "2", "pagesize": "3"}, method="post")
    body = r.json()["listnetworksresponse"]
    assert r.status_code == 200 and body["count"] == 8 and len(body["network"]) == 3
    assert "public-vlan100" not in [n["name"] for n in client(fresh).list("listNetworks")]  # system network hidden


def test_530_fault_is_retried_by_the_client(fresh):
    fresh.admin("faults", {"http_530_next": 2, "http_530_commands": ["listZones"]})
    c = client(fresh)
    assert [z["name"] for z in c.list("listZones")] == ["zone1", "zone2"]
    assert c.calls == 3
    assert fresh.admin("state")["requests"]["listZones"] == 3
    r = raw(fresh, {"command": "listZones"})
    assert r.status_code == 200


def test_slow_job_then_done_and_failed_job(fresh):
    fresh.admin("faults", {"job_seconds": 1.0})
    c = client(fresh)
    cat = csu.Catalog(c)
    cluster = cat.cluster("DC0_C0", cat.zone("zone1"))
    params = {"clusterid": cluster["id"], "name": "web01", "serviceofferingid": cat.service_offering(
        "custom-constrained")["id"], "datadiskofferinglist": [{"disk": "101-2001", "diskOffering": cat.disk_offering(
            "disk-100g")["id"]}], "displayname": "web ~ 01"}
    job = c.submit("importUnmanagedInstance", **params)
    first = c.call("queryAsyncJobResult", jobid=job)
    assert first["jobstatus"] == 0 and first["jobresultcode"] == 0
    t0 = time.monotonic()
    vm = c.wait(job, timeout=10, interval=0.2)["virtualmachine"]
    assert time.monotonic() - t0 > 0.3
    assert vm["displayname"] == "web ~ 01" and vm["instancename"] == "web01"
    assert "web01" not in [i["name"] for i in cat.unmanaged(cluster["id"])]
    fresh.admin("faults", {"job_seconds": 0.1, "fail_next_import": "Failed to import vm name: app-pvlan"})
    failing = dict(params)
    failing.update(name="app-pvlan", datadiskofferinglist=None)
    job = c.submit("importUnmanagedInstance", **failing)
    with pytest.raises(csu.CloudStackJobError) as e:
        c.wait(job, timeout=10, interval=0.1)
    assert e.value.errortext == "Failed to import vm name: app-pvlan" and e.value.status == 530


def test_unknown_fault_is_refused(fresh):
    with pytest.raises(Exception):
        fresh.admin("faults", {"fail_everything": True})


def test_instances_can_be_added(fresh):
    inst = {"cluster": "DC0_C0", "host": "DC0_C0_H0", "name": "added-vm", "osdisplayname": "CentOS 7",
            "osid": "centos7_64Guest", "memory": 512, "powerstate": "PowerOff", "cpunumber": 1,
            "cpucorespersocket": 1, "cpuspeed": 0, "disk": [], "nic": []}
    fresh.admin("instances", [inst])
    cat = csu.Catalog(client(fresh))
    cluster = cat.cluster("DC0_C0", cat.zone("zone1"))
    listed = cat.unmanaged(cluster["id"], "added-vm")
    assert listed[0]["clusterid"] == cluster["id"] and listed[0]["hostid"]


def test_sandbox_peer_reads_vcsim_when_present(sandbox):
    peer = next(p for p in sandbox.started if p.name == "cloudstack")
    state = peer.admin("state")
    has_vcsim = any(p.name == "vcsim" for p in sandbox.started)
    assert state["source"]["kind"] == ("vcenter" if has_vcsim else "json")
    cat = csu.Catalog(csu.CloudStackClient(peer.api_url, peer.api_key, peer.secret_key))
    cluster = cat.cluster(peer.inventory()["cloudstack_cluster"], cat.zone("zone1"))
    items = cat.unmanaged(cluster["id"])
    assert items
    keys = {"clusterid", "hostid", "name", "osdisplayname", "osid", "memory", "powerstate", "cpunumber",
            "cpucorespersocket", "cpuspeed", "disk", "nic"}
    for item in items:
        assert keys <= set(item), item
        assert item["powerstate"] in ("PowerOn", "PowerOff", "PowerUnknown")
        for d in item["disk"]:
            assert {"id", "capacity", "controller", "controllerunit", "position", "imagepath"} <= set(d)
        for n in item["nic"]:
            assert {"id", "macaddress", "networkname", "vlanid", "adaptertype"} <= set(n)
    if has_vcsim:
        # templates are not listed
        vc = next(p for p in sandbox.started if p.name == "vcsim").inventory()
        from pyVim.connect import Disconnect, SmartConnect
        from pyVmomi import vim
        si = SmartConnect(host=vc["vcenter_hostname"], port=int(vc["vcenter_port"]), user=vc["vcenter_username"],
                          pwd=vc["vcenter_password"], disableSslCertValidation=True)
        try:
            content = si.RetrieveContent()
            view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
            templates = set(vm.name for vm in view.view if vm.config and vm.config.template)
            view.Destroy()
        finally:
            Disconnect(si)
        assert not templates & set(i["name"] for i in items)
