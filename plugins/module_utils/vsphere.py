# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""vSphere client layer: connection arguments, a pyVmomi session, bulk property retrieval.

- ``vsphere_argument_spec()``: hostname, username, password, port, validate_certs with
  the ``VMWARE_*`` environment fallbacks (doc fragment ``vmimport.migrate.vsphere``).
- ``VsphereClient``: logs in with ``SmartConnect`` and an explicit SSL context (works on
  pyVmomi 7, 8 and 9; ``SmartConnectNoSSL`` is gone since 8), turns failures into one
  ``VsphereError`` naming the vCenter and the fix, logs out when closed.
- ``VsphereClient.collect()``: one PropertyCollector pass over a ContainerView
  (``RetrievePropertiesEx`` then ``ContinueRetrievePropertiesEx`` while vCenter answers a
  token), so the number of requests depends on the page size, never on the number of VMs.
- ``to_plain()``: pyVmomi objects to plain data for ``vsphere_facts``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gzip
import io
import json
import socket
import ssl
import traceback
import zlib
import xml.etree.ElementTree as ET
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import open_url

try:
    from pyVim.connect import SmartConnect, Disconnect
    from pyVmomi import vim, vmodl, Iso8601, SoapAdapter, VmomiSupport
    HAS_PYVMOMI = True
    PYVMOMI_IMPORT_ERROR = None
except ImportError:
    HAS_PYVMOMI = False
    PYVMOMI_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.vmimport.migrate.plugins.module_utils.vsphere_facts import (
    INVENTORY_PROPERTIES,
    Inventory,
)

DEFAULT_PAGE_SIZE = None  # vCenter chooses


def vsphere_argument_spec(**extra):
    """The connection options of every vsphere_* module, plus the module's own options."""
    spec = dict(
        hostname=dict(type="str", fallback=(env_fallback, ["VMWARE_HOST"])),
        username=dict(type="str", aliases=["user"], fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", aliases=["pass", "pwd"], no_log=True, fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
    )
    spec.update(extra)
    return spec


class VsphereError(Exception):
    """An expected failure talking to vCenter; the message names the vCenter and the fix."""


def _fault_message(fault):
    msg = getattr(fault, "msg", None) or ""
    if not msg:
        for m in getattr(fault, "faultMessage", None) or []:
            msg = getattr(m, "message", None) or msg
    return msg or fault.__class__.__name__


class VsphereClient(object):
    """A logged-in vCenter session; use as a context manager so that it logs out."""

    def __init__(self, hostname, username, password, port=443, validate_certs=True, **_ignored):
        self.hostname = hostname
        self.username = username
        self.port = int(port or 443)
        self.validate_certs = validate_certs
        self.where = "vCenter %s:%s" % (hostname, self.port)
        self.si = None
        self.content = None
        self._check(password)
        self._connect(password)

    @classmethod
    def from_params(cls, params):
        return cls(params.get("hostname"), params.get("username"), params.get("password"),
                   port=params.get("port"), validate_certs=params.get("validate_certs"))

    def _check(self, password):
        missing = [(opt, env) for opt, env, value in (
            ("hostname", "VMWARE_HOST", self.hostname), ("username", "VMWARE_USER", self.username),
            ("password", "VMWARE_PASSWORD", password)) if not value]
        if missing:
            raise VsphereError("missing vCenter connection option(s) %s: set them on the task (or "
                               "module_defaults for group/vmimport.migrate.vsphere) or export %s"
                               % (", ".join(m[0] for m in missing), ", ".join(m[1] for m in missing)))

    def _ssl_context(self):
        if self.validate_certs:
            return ssl.create_default_context()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self, password):
        try:
            self.si = SmartConnect(host=self.hostname, user=self.username, pwd=password, port=self.port,
                                   sslContext=self._ssl_context())
            self.content = self.si.RetrieveContent()
        except vim.fault.InvalidLogin:
            raise VsphereError("%s refused the login of '%s': incorrect user name or password; check username "
                               "and password (or VMWARE_USER / VMWARE_PASSWORD)" % (self.where, self.username))
        except ssl.SSLCertVerificationError as e:
            raise VsphereError("the TLS certificate of %s is not trusted (%s): add its CA to the trust store of "
                               "the host running the module, or set validate_certs: false (VMWARE_VALIDATE_CERTS=false)"
                               " for a lab vCenter" % (self.where, getattr(e, "verify_message", None) or e))
        except ssl.SSLError as e:
            raise VsphereError("TLS handshake with %s failed (%s): check that port %s is vCenter's HTTPS port"
                               % (self.where, e, self.port))
        except socket.gaierror as e:
            raise VsphereError("cannot resolve the vCenter host name '%s' (%s): check hostname (or VMWARE_HOST)"
                               % (self.hostname, e))
        except (socket.timeout, ConnectionError, OSError) as e:
            raise VsphereError("cannot connect to %s (%s): check hostname and port (or VMWARE_HOST / VMWARE_PORT) "
                               "and that vCenter is reachable" % (self.where, getattr(e, "strerror", None) or e))
        except vmodl.MethodFault as e:
            raise VsphereError("%s refused the connection: %s" % (self.where, _fault_message(e)))
        except Exception as e:  # pyVmomi raises plain exceptions for non-vSphere answers
            raise VsphereError("%s did not answer as a vSphere API endpoint (%s: %s): check hostname and port"
                               % (self.where, e.__class__.__name__, e))

    def close(self):
        if self.si is not None:
            try:
                if self.content is not None:
                    self.content.sessionManager.Logout()
                else:
                    Disconnect(self.si)
            except Exception:  # logging out is best effort: the session expires anyway
                pass
            self.si = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------------------------------
    @property
    def root_folder(self):
        return self.content.rootFolder

    def collect(self, root, properties, page_size=DEFAULT_PAGE_SIZE, extra=None):
        """Properties of every object under root, in one PropertyCollector pass.

        root: a managed object (container) or None for the root folder.
        properties: {type name: [property paths]}; the view holds objects of these types.
        extra: [(managed object, type name, [paths])] read in the same call (e.g. the CustomFieldsManager).
        Returns [(type name, moid, {path: plain value})].
        """
        PC = vmodl.query.PropertyCollector
        kinds = [getattr(vim, k) for k in properties]
        view = self.content.viewManager.CreateContainerView(root or self.root_folder, kinds, True)
        try:
            traversal = PC.TraversalSpec(name="traverseView", path="view", skip=False, type=vim.view.ContainerView)
            object_specs = [PC.ObjectSpec(obj=view, skip=True, selectSet=[traversal])]
            prop_specs = [PC.PropertySpec(type=getattr(vim, k), pathSet=list(paths)) for k, paths in properties.items()]
            for obj, kind, paths in extra or []:
                object_specs.append(PC.ObjectSpec(obj=obj, skip=False))
                prop_specs.append(PC.PropertySpec(type=getattr(vim, kind), pathSet=list(paths)))
            spec = PC.FilterSpec(objectSet=object_specs, propSet=prop_specs, reportMissingObjectsInResults=False)
            return self._retrieve(spec, page_size)
        except vmodl.MethodFault as e:
            raise VsphereError("%s failed to list objects: %s" % (self.where, _fault_message(e)))
        finally:
            try:
                view.DestroyView()
            except Exception:  # the view dies with the session anyway
                pass

    def _retrieve(self, spec, page_size):
        options = vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=page_size or None)
        out = []
        objects, token = self._call("RetrievePropertiesEx", specSet=[spec], options=options)
        out.extend(objects)
        while token:
            objects, token = self._call("ContinueRetrievePropertiesEx", token=token)
            out.extend(objects)
        return out

    #: parse PropertyCollector answers straight into plain data (None: not tried yet)
    fast = None

    def _call(self, method, **kwargs):
        """A PropertyCollector call; returns ([(type, moid, props)], token).

        pyVmomi builds typed objects for every XML element of the answer (most of the time of a
        large listing); the answer is parsed here into plain data instead, with pyVmomi's type
        information. pyVmomi's own call (and to_plain) is the fallback when its internals differ.
        """
        pc = self.content.propertyCollector
        if self.fast is not False:
            try:
                return fast_invoke(pc, method, kwargs)
            except FastPathUnavailable:
                self.fast = False
        result = getattr(pc, method)(**kwargs)
        if result is None:
            return [], None
        objects = []
        for oc in result.objects or []:
            objects.append((oc.obj._wsdlName, oc.obj._moId,
                            dict((p.name, to_plain(p.val)) for p in oc.propSet or [])))
        return objects, result.token

    def inventory(self, page_size=DEFAULT_PAGE_SIZE):
        """Datacenters, folders, clusters, hosts, networks, switches, datastores and custom fields (one pass)."""
        extra = []
        if self.content.customFieldsManager is not None:
            extra.append((self.content.customFieldsManager, "CustomFieldsManager", ["field"]))
        objects = self.collect(None, INVENTORY_PROPERTIES, page_size, extra=extra)
        fields = []
        inventory_objects = []
        for kind, moid, props in objects:
            if kind == "CustomFieldsManager":
                fields = props.get("field") or []
            else:
                inventory_objects.append((kind, moid, props))
        inventory = Inventory(inventory_objects, fields)
        inventory.root = self.root_folder._moId
        return inventory

    def managed_object(self, kind, moid):
        return getattr(vim, kind)(moid, self.si._stub)

    def virtual_machines(self, inventory, root_moid, properties, page_size=DEFAULT_PAGE_SIZE):
        """{moid: props} of the VMs under root_moid (None: all), one PropertyCollector pass."""
        root = self.managed_object(inventory.types[root_moid], root_moid) if root_moid else None
        vms = {}
        for kind, moid, props in self.collect(root, {"VirtualMachine": properties}, page_size):
            if kind == "VirtualMachine":
                vms[moid] = props
        return vms


class VsphereTags(object):
    """vSphere tags of objects, read through the vSphere Automation REST API.

    Tags are not part of the SOAP API. The newer ``/api`` endpoints are tried first, then the older
    ``/rest`` ones (vCenter 6.5 to 8). Requests: login, one association listing for all objects, one
    per distinct tag and category, logout - none per VM. Use as a context manager.
    """

    def __init__(self, hostname, username, password, port=443, validate_certs=True, timeout=120):
        self.where = "vCenter %s:%s" % (hostname, int(port or 443))
        self.base = "https://%s:%s" % (hostname, int(port or 443))
        self.username = username
        self._password = password
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.flavor = None
        self.token = None

    @classmethod
    def from_params(cls, params):
        return cls(params.get("hostname"), params.get("username"), params.get("password"),
                   port=params.get("port"), validate_certs=params.get("validate_certs"))

    def _request(self, method, path, data=None, login=False):
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["vmware-api-session-id"] = self.token
        kwargs = dict(method=method, headers=headers, validate_certs=self.validate_certs, timeout=self.timeout,
                      data=json.dumps(data) if data is not None else None)
        if login:
            kwargs.update(url_username=self.username, url_password=self._password, force_basic_auth=True)
        try:
            resp = open_url(self.base + path, **kwargs)
            body = resp.read()
        except HTTPError as e:
            if login and e.code == 404:
                raise
            if e.code in (401, 403):
                raise VsphereError("%s refused the vSphere Automation API login of '%s' (HTTP %s) while reading tags: "
                                   "check username and password" % (self.where, self.username, e.code))
            raise VsphereError("%s answered HTTP %s to %s %s while reading tags"
                               % (self.where, e.code, method, path.split("?")[0]))
        except (URLError, socket.error, ssl.SSLError) as e:
            raise VsphereError("cannot reach the vSphere Automation API of %s (%s): check hostname, port and "
                               "validate_certs" % (self.where, getattr(e, "reason", None) or e))
        if not body:
            return None
        value = json.loads(body)
        return value["value"] if self.flavor == "rest" and isinstance(value, dict) and "value" in value else value

    def login(self):
        """True when logged in; False when the server has no Automation API (an ESXi host)."""
        for flavor, path in (("api", "/api/session"), ("rest", "/rest/com/vmware/cis/session")):
            self.flavor = flavor
            try:
                self.token = self._request("POST", path, login=True)
            except HTTPError:
                continue
            return True
        self.flavor = None
        return False

    def logout(self):
        if self.token:
            try:
                self._request("DELETE", "/api/session" if self.flavor == "api" else "/rest/com/vmware/cis/session")
            except VsphereError:  # best effort: the session expires anyway
                pass
            self.token = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.logout()
        return False

    def _path(self, kind, ident=None, action=None):
        if self.flavor == "api":
            path = "/api/cis/tagging/%s" % kind
            if ident:
                path += "/" + quote(ident, safe=":")
            return path + ("?action=%s" % action if action else "")
        path = "/rest/com/vmware/cis/tagging/%s" % kind
        if ident:
            path += "/id:" + quote(ident, safe=":")
        return path + ("?~action=%s" % action if action else "")

    def tags_of(self, objects):
        """{moid: [{"name": tag, "category": category name}]} for [(type, moid)]; None without an Automation API."""
        if not self.token and not self.login():
            return None
        objects = list(objects)
        if not objects:
            return {}
        attached = self._request("POST", self._path("tag-association", action="list-attached-tags-on-objects"),
                                 {"object_ids": [{"type": kind, "id": moid} for kind, moid in objects]}) or []
        tag_ids = sorted(set(t for entry in attached for t in entry.get("tag_ids") or []))
        tags = dict((t, self._request("GET", self._path("tag", t)) or {}) for t in tag_ids)
        category_ids = sorted(set(tag.get("category_id") for tag in tags.values() if tag.get("category_id")))
        categories = dict((c, (self._request("GET", self._path("category", c)) or {}).get("name")) for c in category_ids)
        out = {}
        for entry in attached:
            moid = (entry.get("object_id") or {}).get("id")
            out[moid] = [{"name": tags[t].get("name"), "category": categories.get(tags[t].get("category_id"))}
                         for t in entry.get("tag_ids") or [] if t in tags]
        return out


def to_plain(value):
    """pyVmomi values to plain data: managed objects -> moid, data objects -> dict with "_type"."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)  # enums are str subclasses
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, VmomiSupport.ManagedObject):
        return value._moId
    if isinstance(value, VmomiSupport.DataObject):
        out = {"_type": value._wsdlName}
        for prop in value._GetPropertyList():
            if prop.name in ("dynamicType", "dynamicProperty"):
                continue
            v = getattr(value, prop.name, None)
            if v is None or (isinstance(v, list) and not v):
                continue
            out[prop.name] = to_plain(v)
        return out
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, type):  # a type (vmodl.TypeName values)
        return getattr(value, "_wsdlName", value.__name__)
    return str(value)


# ----------------------------------------------------------------------------------------------
# PropertyCollector answers parsed straight into plain data
# ----------------------------------------------------------------------------------------------
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
VIM_NS = "urn:vim25"
_PRIMITIVE_KINDS = {
    "string": "text", "anyURI": "text", "dateTime": "datetime", "anyType": "any", "base64Binary": "skip",
    "int": "int", "long": "int", "short": "int", "byte": "int", "boolean": "bool", "double": "float",
    "float": "float", "ManagedObjectReference": "moref", "TypeName": "text", "MethodName": "text",
    "PropertyPath": "text",
}


class FastPathUnavailable(Exception):
    """pyVmomi's internals are not what the fast path expects: use pyVmomi's own call."""


_LOCAL_NAMES = {}


def _local(tag):
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = _LOCAL_NAMES[tag] = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
    return name


#: devices no vsphere_* module looks at: not converted (a third of a VM's configuration)
IGNORED_DEVICE_TYPES = frozenset([
    "VirtualKeyboard", "VirtualPointingDevice", "VirtualMachineVideoCard", "VirtualMachineVMCIDevice",
    "VirtualPS2Controller", "VirtualSIOController", "VirtualPCIController", "VirtualCdrom", "VirtualFloppy",
    "VirtualSerialPort", "VirtualParallelPort", "VirtualSoundBlaster16", "VirtualEnsoniq1371", "VirtualHdAudioCard",
    "VirtualMachineVMIROM", "VirtualUSB", "VirtualUSBController", "VirtualUSBXHCIController", "VirtualTPM",
    "VirtualPrecisionClock", "VirtualWDT",
])


class PlainParser(object):
    """Turns vSphere SOAP elements into the data to_plain() gives, using pyVmomi's type information.

    Array items whose type is in skip_types are left out.
    """

    def __init__(self, skip_types=IGNORED_DEVICE_TYPES):
        self._kinds = {}
        self._props = {}
        self.skip_types = skip_types

    def kind_of_name(self, name):
        """('text'|'int'|..., None) or ('array', item kind) or ('data', wsdl name) for a WSDL type name."""
        kind = self._kinds.get(name)
        if kind is not None:
            return kind
        if name in _PRIMITIVE_KINDS:
            kind = (_PRIMITIVE_KINDS[name], None)
        elif name.startswith("ArrayOf"):
            item = name[7:]
            if item[:1].isupper() and item[:1].lower() + item[1:] in _PRIMITIVE_KINDS:
                item = item[:1].lower() + item[1:]
            kind = ("array", self.kind_of_name(item))
        else:
            try:
                kind = self.kind_of_type(VmomiSupport.GetWsdlType(VIM_NS, name))
            except (KeyError, AttributeError, TypeError):
                kind = ("unknown", name)
        self._kinds[name] = kind
        return kind

    def kind_of_type(self, t):
        if t is None or t is object:
            return ("any", None)
        if issubclass(t, list):
            return ("array", self.kind_of_type(getattr(t, "Item", None)))
        if issubclass(t, VmomiSupport.ManagedObject):
            return ("moref", None)
        if issubclass(t, VmomiSupport.DataObject):
            return ("data", t._wsdlName)
        if issubclass(t, bool):
            return ("bool", None)
        if issubclass(t, int):
            return ("int", None)
        if issubclass(t, float):
            return ("float", None)
        if issubclass(t, datetime.datetime):
            return ("datetime", None)
        if issubclass(t, (str, type)):
            return ("text", None)
        return ("skip", None)

    def props_of(self, name):
        """({property: kind}, [(property, default)]) of a data type.

        The defaults are what pyVmomi gives a required primitive property the answer leaves out
        (False, 0, ""), so that both paths give the same data.
        """
        found = self._props.get(name)
        if found is None:
            props, defaults = {}, []
            try:
                cls = VmomiSupport.GetWsdlType(VIM_NS, name)
                for info in cls._GetPropertyList():
                    props[info.name] = self.kind_of_type(info.type)
                    t = info.type
                    if info.flags & VmomiSupport.F_OPTIONAL or info.name in ("dynamicType", "dynamicProperty"):
                        continue
                    if t is bool:
                        defaults.append((info.name, False))
                    elif issubclass(t, list) or issubclass(t, VmomiSupport.Enum):
                        continue
                    elif issubclass(t, str):
                        defaults.append((info.name, ""))
                    elif issubclass(t, (int, float)):
                        defaults.append((info.name, t(0) if t is float else 0))
            except (KeyError, AttributeError, TypeError):
                pass
            found = self._props[name] = (props, defaults)
        return found

    def convert(self, elem, kind):
        xsi = elem.get(XSI_TYPE)
        if xsi:
            kind = self.kind_of_name(_local(xsi))
        k = kind[0]
        text = elem.text
        if k == "text" or k == "moref":
            return text or ""
        if k == "int":
            return int(text)
        if k == "bool":
            return text == "true" or text == "1"
        if k == "float":
            return float(text)
        if k == "datetime":
            parsed = Iso8601.ParseISO8601(text or "")
            return parsed.isoformat() if parsed is not None else text
        if k == "array":
            skip = self.skip_types
            return [self.convert(child, kind[1]) for child in elem
                    if not skip or _local(child.get(XSI_TYPE) or "") not in skip]
        if k == "data":
            out = {"_type": kind[1]}
            props, defaults = self.props_of(kind[1])
            for child in elem:
                name = _local(child.tag)
                if name == "dynamicType" or name == "dynamicProperty":
                    continue
                pkind = props.get(name, ("unknown", None))
                if pkind[0] == "array":
                    if self.skip_types and _local(child.get(XSI_TYPE) or "") in self.skip_types:
                        continue
                    out.setdefault(name, []).append(self.convert(child, pkind[1]))
                else:
                    out[name] = self.convert(child, pkind)
            for name, value in defaults:
                if name not in out:
                    out[name] = value
            return out
        if k == "skip":
            return None
        # unknown type (newer than this pyVmomi) or anyType without xsi:type: keep its shape
        if len(elem) == 0:
            return text or ""
        out = {"_type": kind[1]} if kind[1] else {}
        for child in elem:
            name = _local(child.tag)
            value = self.convert(child, ("unknown", None))
            if name in out:
                if not isinstance(out[name], list):
                    out[name] = [out[name]]
                out[name].append(value)
            else:
                out[name] = value
        return out

    def retrieve_result(self, body):
        """([(type, moid, props)], token) from a RetrievePropertiesEx / Continue... SOAP answer.

        The whole answer is parsed at once by the C parser (one page at a time when page_size is set).
        """
        objects, token = [], None
        root = ET.fromstring(body)
        returnval = root.find(".//{%s}returnval" % VIM_NS)
        if returnval is None:  # nothing matched: vCenter answers an empty response
            return objects, token
        any_kind = ("any", None)
        for elem in returnval:
            tag = elem.tag
            if tag == "{urn:vim25}objects":
                obj = None
                props = {}
                for child in elem:
                    ctag = child.tag
                    if ctag == "{urn:vim25}obj":
                        obj = child
                    elif ctag == "{urn:vim25}propSet":
                        name = child.find("{urn:vim25}name")
                        val = child.find("{urn:vim25}val")
                        if name is not None and val is not None:
                            props[name.text] = self.convert(val, any_kind)
                objects.append((obj.get("type"), obj.text, props))
            elif tag == "{urn:vim25}token":
                token = elem.text
        return objects, token


_PARSER = PlainParser()


def fast_invoke(mo, method, kwargs):
    """Call a PropertyCollector method with pyVmomi's stub, parse the answer with PlainParser.

    Faults (HTTP 500) are handed to pyVmomi's deserializer and raised as pyVmomi raises them.
    """
    try:
        stub = mo._stub
        info = mo._GetMethodInfo(method)
        args = [kwargs.get(p.name) for p in info.params]
        request = stub.SerializeRequest(mo, info, args)
        headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId,
                   "Content-Type": "text/xml; charset=UTF-8"}
        headers.update(getattr(stub, "_customHeaders", None) or {})
        if getattr(stub, "_acceptCompressedResponses", False):
            headers["Accept-Encoding"] = "gzip, deflate"
        conn = stub.GetConnection()
        path = stub.path
    except (AttributeError, TypeError, KeyError) as e:
        raise FastPathUnavailable(str(e))
    try:
        conn.request("POST", path, request, headers)
        resp = conn.getresponse()
        encoding = (resp.getheader("Content-Encoding") or "identity").lower()
        if resp.status not in (200, 500):
            raise vmodl.fault.SystemError(msg="HTTP %s %s from the PropertyCollector" % (resp.status, resp.reason))
        body = resp.read()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        if resp.status == 500:
            fault = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(io.BytesIO(body), info.result)
            stub.ReturnConnection(conn)
            raise fault
        result = _PARSER.retrieve_result(body)
    except vmodl.MethodFault:
        raise
    except Exception:
        conn.close()
        stub.DropConnections()
        raise
    stub.ReturnConnection(conn)
    return result
