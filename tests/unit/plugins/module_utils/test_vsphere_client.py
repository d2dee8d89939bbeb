import socket
import ssl

import pytest
from pyVmomi import vim, vmodl

from ansible_collections.vmimport.migrate.plugins.module_utils import vsphere
from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere import (
    VsphereClient,
    VsphereError,
    to_plain,
    vsphere_argument_spec,
)

PARAMS = dict(hostname="vc.example.com", username="administrator@vsphere.local", password="S3cret!pw",
              port=8443, validate_certs=False)


def test_argument_spec():
    spec = vsphere_argument_spec(extra=dict(type="str"))
    assert spec["password"]["no_log"] is True
    assert spec["extra"] == dict(type="str")
    envs = dict((k, v["fallback"][1][0]) for k, v in spec.items() if "fallback" in v)
    assert envs == {"hostname": "VMWARE_HOST", "username": "VMWARE_USER", "password": "VMWARE_PASSWORD",
                    "port": "VMWARE_PORT", "validate_certs": "VMWARE_VALIDATE_CERTS"}
    assert spec["port"]["default"] == 443 and spec["validate_certs"]["default"] is True


def test_to_plain():
    ds = vim.Datastore("datastore-7")
    disk = vim.vm.device.VirtualDisk(
        key=2000, controllerKey=1000, unitNumber=0, capacityInKB=1024, diskObjectId="10-2000",
        deviceInfo=vim.Description(label="Hard disk 1", summary="1,024 KB"),
        backing=vim.vm.device.VirtualDisk.FlatVer2BackingInfo(fileName="[ds] a.vmdk", datastore=ds,
                                                              diskMode="persistent"))
    plain = to_plain([disk, None, "poweredOn", vim.VirtualMachinePowerState.poweredOn, 5])
    d = plain[0]
    assert d["_type"] == "VirtualDisk"
    assert d["backing"]["_type"] == "VirtualDiskFlatVer2BackingInfo"
    assert d["backing"]["datastore"] == "datastore-7"
    assert (d["key"], d["unitNumber"], d["diskObjectId"]) == (2000, 0, "10-2000")
    assert d["deviceInfo"]["label"] == "Hard disk 1"
    assert "dynamicProperty" not in d
    assert plain[1:] == [None, "poweredOn", "poweredOn", 5]
    assert plain[3].__class__ is str  # a plain str, not pyVmomi's enum class


@pytest.mark.parametrize("exc,fragments", [
    (vim.fault.InvalidLogin(msg="Cannot complete login due to an incorrect user name or password."),
     ["vCenter vc.example.com:8443 refused the login of 'administrator@vsphere.local'",
      "incorrect user name or password", "VMWARE_USER"]),
    (ConnectionRefusedError(111, "Connection refused"),
     ["cannot connect to vCenter vc.example.com:8443 (Connection refused)", "check hostname and port"]),
    (socket.gaierror(-2, "Name or service not known"),
     ["cannot resolve the vCenter host name 'vc.example.com'", "VMWARE_HOST"]),
    (ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate"),
     ["TLS certificate of vCenter vc.example.com:8443 is not trusted", "validate_certs: false"]),
    (socket.timeout("timed out"), ["cannot connect to vCenter vc.example.com:8443 (timed out)"]),
    (vim.fault.NotAuthenticated(msg="session gone"), ["vCenter vc.example.com:8443 refused the connection: session gone"]),
    (ValueError("not a vSphere answer"), ["did not answer as a vSphere API endpoint"]),
])
def test_connection_errors_are_one_clear_message(monkeypatch, exc, fragments):
    def fail(**kwargs):
        raise exc
    monkeypatch.setattr(vsphere, "SmartConnect", fail)
    with pytest.raises(VsphereError) as e:
        VsphereClient.from_params(PARAMS)
    for f in fragments:
        assert f in str(e.value)
    assert PARAMS["password"] not in str(e.value)


def test_missing_connection_options_name_the_environment_variables(monkeypatch):
    monkeypatch.setattr(vsphere, "SmartConnect", lambda **kw: pytest.fail("must not connect"))
    with pytest.raises(VsphereError) as e:
        VsphereClient.from_params(dict(PARAMS, hostname=None, password=""))
    assert "missing vCenter connection option(s) hostname, password" in str(e.value)
    assert "VMWARE_HOST, VMWARE_PASSWORD" in str(e.value)


def test_ssl_context(monkeypatch):
    seen = {}

    def connect(**kwargs):
        seen.update(kwargs)
        raise ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setattr(vsphere, "SmartConnect", connect)
    for validate, mode in ((False, ssl.CERT_NONE), (True, ssl.CERT_REQUIRED)):
        with pytest.raises(VsphereError):
            VsphereClient.from_params(dict(PARAMS, validate_certs=validate))
        assert seen["sslContext"].verify_mode == mode
        assert seen["sslContext"].check_hostname is validate
        assert (seen["host"], seen["port"], seen["user"]) == ("vc.example.com", 8443, "administrator@vsphere.local")


class FakePropertyCollector(object):
    """Answers pages of page_size objects with tokens, like vCenter."""

    def __init__(self, total):
        self.objects = [vmodl.query.PropertyCollector.ObjectContent(
            obj=vim.VirtualMachine("vm-%d" % i),
            propSet=[vmodl.DynamicProperty(name="name", val="vm%d" % i)]) for i in range(total)]
        self.calls = []

    def _page(self, start, size):
        chunk = self.objects[start:start + size]
        if not chunk:
            return None  # vCenter answers nothing at all when no object matches
        token = str(start + size) if start + size < len(self.objects) else None
        return vmodl.query.PropertyCollector.RetrieveResult(objects=chunk, token=token)

    def RetrievePropertiesEx(self, specSet, options):
        self.calls.append(("RetrievePropertiesEx", options.maxObjects))
        self.size = options.maxObjects
        return self._page(0, self.size)

    def ContinueRetrievePropertiesEx(self, token):
        self.calls.append(("ContinueRetrievePropertiesEx", token))
        return self._page(int(token), self.size)


@pytest.mark.parametrize("total,page,calls", [(0, 100, 1), (250, 100, 3), (300, 100, 3), (5, 1000, 1)])
def test_retrieve_follows_tokens(total, page, calls):
    client = VsphereClient.__new__(VsphereClient)
    pc = FakePropertyCollector(total)
    client.content = type("Content", (), {"propertyCollector": pc})()
    out = client._retrieve(object(), page)
    assert [item[1] for item in out] == ["vm-%d" % i for i in range(total)]
    assert all(kind == "VirtualMachine" and props == {"name": "vm" + moid[3:]} for kind, moid, props in out)
    assert len(pc.calls) == calls
    assert pc.calls[0] == ("RetrievePropertiesEx", page)


# ------------------------------------------------------------------------------------------------
# the fast path: SOAP answers parsed straight into plain data, as to_plain() would give them
# ------------------------------------------------------------------------------------------------
def retrieve_result():
    PC = vmodl.query.PropertyCollector
    VD = vim.vm.device
    devices = VD.VirtualDevice.Array([
        VD.VirtualKeyboard(key=600, controllerKey=300, unitNumber=0, deviceInfo=vim.Description(label="Keyboard", summary="k")),
        VD.ParaVirtualSCSIController(key=1000, busNumber=0, sharedBus="noSharing",
                                     deviceInfo=vim.Description(label="SCSI controller 0", summary="s")),
        VD.VirtualDisk(key=2000, controllerKey=1000, unitNumber=0, capacityInKB=1024, capacityInBytes=1 << 20,
                       diskObjectId="10-2000", deviceInfo=vim.Description(label="Hard disk 1", summary="x"),
                       backing=VD.VirtualDisk.FlatVer2BackingInfo(fileName="[ds] a.vmdk", datastore=vim.Datastore("ds-7"),
                                                                  diskMode="persistent", thinProvisioned=True)),
        VD.VirtualVmxnet3(key=4000, macAddress="00:50:56:aa:bb:cc", addressType="generated",
                          deviceInfo=vim.Description(label="Network adapter 1", summary="n"),
                          slotInfo=VD.VirtualDevice.PciBusSlotInfo(pciSlotNumber=160),
                          backing=VD.VirtualEthernetCard.DistributedVirtualPortBackingInfo(
                              port=vim.dvs.PortConnection(switchUuid="50 00", portgroupKey="dvportgroup-1"))),
    ])
    summary = vim.vm.Summary.ConfigSummary(name="vm10", template=False, numCpu=2, memorySizeMB=2048,
                                           cpuReservation=0, guestId="centos7_64Guest")
    net = [vim.vm.GuestInfo.NicInfo(macAddress="00:50:56:aa:bb:cc", ipAddress=["10.0.0.1"], connected=True,
                                    deviceConfigId=4000)]
    custom = [vim.CustomFieldsManager.StringValue(key=101, value="i-2-34-VM")]
    pvlans = vim.dvs.VmwareDistributedVirtualSwitch.PvlanMapEntry.Array([
        vim.dvs.VmwareDistributedVirtualSwitch.PvlanMapEntry(primaryVlanId=300, secondaryVlanId=301, pvlanType="isolated")])
    port_config = vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
        vlan=vim.dvs.VmwareDistributedVirtualSwitch.TrunkVlanSpec(
            inherited=False, vlanId=[vim.NumericRange(start=400, end=409)]))

    def oc(obj, **props):
        return PC.ObjectContent(obj=obj, propSet=[vmodl.DynamicProperty(name=k.replace("__", "."), val=v)
                                                  for k, v in props.items()])
    return PC.RetrieveResult(token="tok-1", objects=[
        oc(vim.VirtualMachine("vm-10"), name="vm10", summary__config=summary, config__hardware__device=devices,
           runtime__powerState=vim.VirtualMachinePowerState.poweredOn, runtime__maxCpuUsage=4588,
           guest__net=vim.vm.GuestInfo.NicInfo.Array(net), customValue=vim.CustomFieldsManager.Value.Array(custom),
           runtime__host=vim.HostSystem("host-1"), config__template=False),
        oc(vim.DistributedVirtualSwitch("dvs-1"), name="DVS0", config__pvlanConfig=pvlans,
           config__defaultPortConfig=port_config,
           runtime__bootTime=__import__("datetime").datetime(2026, 1, 2, 3, 4, 5)),
        oc(vim.Network("network-1"), name="VM Network",
           host=vim.HostSystem.Array([vim.HostSystem("host-1"), vim.HostSystem("host-2")])),
    ])


def soap_answer(result):
    from pyVmomi import SoapAdapter, VmomiSupport
    version = "vim.version.version9"
    info = VmomiSupport.Object(name="returnval", type=vmodl.query.PropertyCollector.RetrieveResult,
                               version=version, flags=0)
    body = SoapAdapter.Serialize(result, info=info, version=version, nsMap={"urn:vim25": ""})
    return (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b'<RetrievePropertiesExResponse xmlns="urn:vim25">' + body +
            b'</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>')


def test_plain_parser_gives_what_pyvmomi_and_to_plain_give():
    from pyVmomi import SoapAdapter
    answer = soap_answer(retrieve_result())
    expected = SoapAdapter.SoapResponseDeserializer(None).Deserialize(
        answer, vmodl.query.PropertyCollector.RetrieveResult)
    expected_objects = [(oc.obj._wsdlName, oc.obj._moId, dict((p.name, to_plain(p.val)) for p in oc.propSet))
                        for oc in expected.objects]
    objects, token = vsphere.PlainParser(skip_types=None).retrieve_result(answer)
    assert token == "tok-1"
    assert objects == expected_objects
    vm = objects[0][2]
    # spot checks of what the facts rely on
    assert vm["config.hardware.device"][2]["backing"]["datastore"] == "ds-7"
    assert vm["config.hardware.device"][3]["slotInfo"]["pciSlotNumber"] == 160
    assert vm["guest.net"][0]["ipAddress"] == ["10.0.0.1"]  # a one-item array stays a list
    assert objects[1][2]["config.pvlanConfig"] == [{"_type": "VMwareDVSPvlanMapEntry", "primaryVlanId": 300,
                                                    "secondaryVlanId": 301, "pvlanType": "isolated"}]
    assert objects[1][2]["config.defaultPortConfig"]["vlan"]["vlanId"] == [
        {"_type": "NumericRange", "start": 400, "end": 409}]
    assert objects[2][2]["host"] == ["host-1", "host-2"]


def test_plain_parser_leaves_out_devices_nobody_reads():
    objects = vsphere.PlainParser().retrieve_result(soap_answer(retrieve_result()))[0]
    types = [d["_type"] for d in objects[0][2]["config.hardware.device"]]
    assert types == ["ParaVirtualSCSIController", "VirtualDisk", "VirtualVmxnet3"]


def test_plain_parser_empty_answer():
    empty = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
             b'<RetrievePropertiesExResponse xmlns="urn:vim25"></RetrievePropertiesExResponse></soapenv:Body>'
             b'</soapenv:Envelope>')
    assert vsphere.PlainParser().retrieve_result(empty) == ([], None)


# ------------------------------------------------------------------------------------------------
# tags through the vSphere Automation REST API
# ------------------------------------------------------------------------------------------------
class FakeAutomationApi(object):
    """Answers open_url() as vCenter's /api (flavor "api") or only the older /rest (flavor "rest")."""

    TAGS = {"t-1": {"name": "finance", "category_id": "c-1"}, "t-2": {"name": "gold", "category_id": "c-2"}}
    CATEGORIES = {"c-1": {"name": "Owner"}, "c-2": {"name": "Tier"}}
    ATTACHED = {"vm-1": ["t-1", "t-2"], "vm-2": [], "vm-3": ["t-1"]}

    def __init__(self, flavor="api", password="pw"):
        self.flavor = flavor
        self.password = password
        self.calls = []

    def _error(self, url, code):
        from urllib.error import HTTPError
        return HTTPError(url, code, "error", {}, None)

    def __call__(self, url, method=None, headers=None, data=None, url_username=None, url_password=None, **kw):
        import io
        import json
        path = url.split(":8443", 1)[1]
        self.calls.append((method, path))
        prefix = {"api": "/api", "rest": "/rest/com/vmware/cis"}.get(self.flavor, "/no-automation-api")
        if not path.startswith(prefix):
            raise self._error(url, 404)
        wrap = (lambda v: {"value": v}) if self.flavor == "rest" else (lambda v: v)
        if path.endswith("/session"):
            if method == "POST":
                if url_password != self.password:
                    raise self._error(url, 401)
                return io.BytesIO(json.dumps(wrap("session-1")).encode())
            return io.BytesIO(b"")
        assert headers["vmware-api-session-id"] == "session-1"
        if "list-attached-tags-on-objects" in path:
            ids = [o["id"] for o in json.loads(data)["object_ids"]]
            answer = [{"object_id": {"id": i, "type": "VirtualMachine"}, "tag_ids": self.ATTACHED.get(i, [])}
                      for i in ids]
        else:
            kind, ident = path.rsplit("/", 2)[-2:]
            ident = ident.replace("id:", "")
            answer = dict((self.TAGS if kind == "tag" else self.CATEGORIES)[ident], id=ident)
        return io.BytesIO(json.dumps(wrap(answer)).encode())


@pytest.mark.parametrize("flavor", ["api", "rest"])
def test_tags_of(monkeypatch, flavor):
    api = FakeAutomationApi(flavor)
    monkeypatch.setattr(vsphere, "open_url", api)
    with vsphere.VsphereTags("vc", "user", "pw", port=8443) as rest:
        tags = rest.tags_of([("VirtualMachine", "vm-1"), ("VirtualMachine", "vm-2"), ("VirtualMachine", "vm-3")])
    assert tags == {"vm-1": [{"name": "finance", "category": "Owner"}, {"name": "gold", "category": "Tier"}],
                    "vm-2": [], "vm-3": [{"name": "finance", "category": "Owner"}]}
    # login, one listing for all VMs, one GET per tag and per category, logout: nothing per VM
    gets = [c for c in api.calls if c[0] == "GET"]
    assert len(gets) == 4
    assert api.calls[-1][0] == "DELETE"
    if flavor == "rest":
        assert api.calls[0] == ("POST", "/api/session")  # the newer API first, then /rest
        assert ("GET", "/rest/com/vmware/cis/tagging/tag/id:t-1") in api.calls
    else:
        assert ("GET", "/api/cis/tagging/tag/t-1") in api.calls


def test_tags_bad_password(monkeypatch):
    monkeypatch.setattr(vsphere, "open_url", FakeAutomationApi("api", password="other"))
    with pytest.raises(VsphereError) as e:
        vsphere.VsphereTags("vc", "user", "pw", port=8443).tags_of([("VirtualMachine", "vm-1")])
    assert "vCenter vc:8443 refused the vSphere Automation API login of 'user' (HTTP 401)" in str(e.value)


def test_tags_without_automation_api(monkeypatch):
    api = FakeAutomationApi("none")
    monkeypatch.setattr(vsphere, "open_url", api)
    assert vsphere.VsphereTags("vc", "user", "pw", port=8443).tags_of([("VirtualMachine", "vm-1")]) is None
    assert [c[1] for c in api.calls] == ["/api/session", "/rest/com/vmware/cis/session"]


def test_tags_unreachable(monkeypatch):
    from urllib.error import URLError

    def refuse(url, **kw):
        raise URLError(ConnectionRefusedError(111, "Connection refused"))
    monkeypatch.setattr(vsphere, "open_url", refuse)
    with pytest.raises(VsphereError) as e:
        vsphere.VsphereTags("vc", "user", "pw", port=8443).tags_of([("VirtualMachine", "vm-1")])
    assert "cannot reach the vSphere Automation API of vCenter vc:8443" in str(e.value)
