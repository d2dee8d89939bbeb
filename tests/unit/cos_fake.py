"""An in-memory stand-in for an ibm_boto3 S3 client, for the COS unit tests.

It keeps objects and incomplete uploads like S3 does (ETags are MD5s, multipart
ETags are computed, Content-MD5 is checked), raises the SDK's own ClientError,
records every call, and can inject faults: ``fail[operation] = [(predicate, code)]``.
"""

import base64
import binascii
import hashlib
import itertools
import threading
import zlib
from datetime import datetime, timezone

from ibm_botocore.exceptions import ClientError


def client_error(code, op, status=400, message=None):
    return ClientError({"Error": {"Code": code, "Message": message or code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class FakeCos(object):
    def __init__(self, buckets=("bucket",)):
        self.buckets = set(buckets)
        self.objects = {}   # (bucket, key) -> dict(data_md5, size, etag, meta)
        self.uploads = {}   # upload_id -> dict(bucket, key, meta, parts{n: (size, etag, md5)}, initiated)
        self.calls = []
        self.fail = {}      # op -> list of (predicate(kwargs) -> bool, code)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.bytes_received = 0
        self._ids = itertools.count(1)
        self.hook = {}      # op -> callable(kwargs) run before the call

    # helpers ------------------------------------------------------------
    def _enter(self, op, kwargs):
        with self.lock:
            self.calls.append((op, {k: v for k, v in kwargs.items() if k != "Body"}))
        if op in self.hook:
            self.hook[op](kwargs)
        for pred, code in self.fail.get(op, []):
            if pred(kwargs):
                status = {"NoSuchBucket": 404, "NoSuchUpload": 404, "AccessDenied": 403,
                          "SignatureDoesNotMatch": 403, "InternalError": 500}.get(code, 400)
                raise client_error(code, op, status)
        bucket = kwargs.get("Bucket")
        if bucket is not None and bucket not in self.buckets:
            raise client_error("NoSuchBucket", op, 404, "The specified bucket does not exist")

    def count(self, op):
        return sum(1 for c in self.calls if c[0] == op)

    def add_upload(self, bucket, key, meta=None, parts=None, initiated=None):
        """An incomplete upload made by 'someone else'; parts: {n: bytes}."""
        uid = "upload-%d" % next(self._ids)
        stored = {}
        for n, data in (parts or {}).items():
            md5 = hashlib.md5(data).digest()
            stored[n] = (len(data), '"%s"' % md5.hex(), md5)
        self.uploads[uid] = {"bucket": bucket, "key": key, "meta": dict(meta or {}), "parts": stored,
                             "initiated": initiated or datetime(2026, 1, 1, tzinfo=timezone.utc)}
        return uid

    def put(self, bucket, key, data, meta=None, etag=None):
        self.objects[(bucket, key)] = {"size": len(data), "etag": etag or '"%s"' % hashlib.md5(data).hexdigest(),
                                       "meta": dict(meta or {})}

    # S3 calls -------------------------------------------------------------
    def list_multipart_uploads(self, **kw):
        self._enter("list_multipart_uploads", kw)
        ups = [{"Key": u["key"], "UploadId": uid, "Initiated": u["initiated"]}
               for uid, u in sorted(self.uploads.items())
               if u["bucket"] == kw["Bucket"] and u["key"].startswith(kw.get("Prefix", ""))]
        return {"Uploads": ups, "IsTruncated": False}

    def list_parts(self, **kw):
        self._enter("list_parts", kw)
        up = self.uploads.get(kw["UploadId"])
        if up is None:
            raise client_error("NoSuchUpload", "ListParts", 404)
        parts = [{"PartNumber": n, "Size": s, "ETag": e} for n, (s, e, dummy) in sorted(up["parts"].items())]
        marker = kw.get("PartNumberMarker") or 0
        parts = [p for p in parts if p["PartNumber"] > marker]
        page = parts[:2]  # small pages, to exercise pagination
        return {"Parts": page, "IsTruncated": len(parts) > 2,
                "NextPartNumberMarker": page[-1]["PartNumber"] if page else None}

    def head_object(self, **kw):
        self._enter("head_object", kw)
        obj = self.objects.get((kw["Bucket"], kw["Key"]))
        if obj is None:
            raise client_error("404", "HeadObject", 404, "Not Found")
        return {"ContentLength": obj["size"], "ETag": obj["etag"], "Metadata": dict(obj["meta"]),
                "LastModified": datetime(2026, 1, 2, tzinfo=timezone.utc), "ContentType": "binary/octet-stream"}

    def list_objects_v2(self, **kw):
        self._enter("list_objects_v2", kw)
        keys = sorted(k for (b, k) in self.objects if b == kw["Bucket"] and k.startswith(kw.get("Prefix", "")))
        return {"Contents": [{"Key": k} for k in keys[:kw.get("MaxKeys", 1000)]], "KeyCount": len(keys)}

    def create_multipart_upload(self, **kw):
        self._enter("create_multipart_upload", kw)
        uid = self.add_upload(kw["Bucket"], kw["Key"], meta=kw.get("Metadata"))
        self.uploads[uid]["algorithm"] = kw.get("ChecksumAlgorithm")
        return {"UploadId": uid}

    def _check_md5(self, body, kw, op):
        digest = hashlib.md5(body).digest()
        if "ContentMD5" in kw and base64.b64decode(kw["ContentMD5"]) != digest:
            raise client_error("BadDigest", op)
        if "ChecksumCRC32" in kw and base64.b64decode(kw["ChecksumCRC32"]) != \
                (zlib.crc32(body) & 0xFFFFFFFF).to_bytes(4, "big"):
            raise client_error("BadDigest", op)
        return digest

    def upload_part(self, **kw):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._enter("upload_part", kw)
            body = bytes(kw["Body"])
            digest = self._check_md5(body, kw, "UploadPart")
            up = self.uploads.get(kw["UploadId"])
            if up is None:
                raise client_error("NoSuchUpload", "UploadPart", 404)
            with self.lock:
                up["parts"][kw["PartNumber"]] = (len(body), '"%s"' % digest.hex(), digest)
                self.bytes_received += len(body)
            return {"ETag": '"%s"' % digest.hex()}
        finally:
            with self.lock:
                self.in_flight -= 1

    def complete_multipart_upload(self, **kw):
        self._enter("complete_multipart_upload", kw)
        up = self.uploads.get(kw["UploadId"])
        if up is None:
            raise client_error("NoSuchUpload", "CompleteMultipartUpload", 404)
        md5s, size = [], 0
        for p in kw["MultipartUpload"]["Parts"]:
            if up.get("algorithm") == "CRC32" and not p.get("ChecksumCRC32"):
                raise client_error("InvalidRequest", "CompleteMultipartUpload", 400,
                                   "The upload was created using a crc32 checksum; each part needs it")
            have = up["parts"].get(p["PartNumber"])
            if have is None or have[1] != p["ETag"]:
                raise client_error("InvalidPart", "CompleteMultipartUpload")
            md5s.append(have[2])
            size += have[0]
        etag = '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(md5s))
        self.objects[(up["bucket"], up["key"])] = {"size": size, "etag": etag, "meta": up["meta"]}
        del self.uploads[kw["UploadId"]]
        return {"ETag": etag}

    def abort_multipart_upload(self, **kw):
        self._enter("abort_multipart_upload", kw)
        if self.uploads.pop(kw["UploadId"], None) is None:
            raise client_error("NoSuchUpload", "AbortMultipartUpload", 404)
        return {}

    def put_object(self, **kw):
        self._enter("put_object", kw)
        body = bytes(kw["Body"])
        digest = self._check_md5(body, kw, "PutObject")
        self.bytes_received += len(body)
        self.objects[(kw["Bucket"], kw["Key"])] = {"size": len(body), "etag": '"%s"' % binascii.hexlify(digest).decode(),
                                                   "meta": dict(kw.get("Metadata") or {})}
        return {"ETag": '"%s"' % digest.hex()}

    def delete_object(self, **kw):
        self._enter("delete_object", kw)
        self.objects.pop((kw["Bucket"], kw["Key"]), None)
        return {}
