#!/usr/bin/env python
"""A minimal S3 endpoint for benchmarks: it speaks the calls of an upload, keeps no data.

The client is the bottleneck here, not the server: request bodies are read in
1 MiB blocks straight from the socket, their MD5 is computed (hashlib releases
the GIL, so several uploads run in parallel) and then thrown away. What is
kept is what the answers need: parts (number, size, ETag), objects (size, ETag,
``x-amz-meta-*`` metadata) and incomplete uploads. Any credentials are
accepted; every bucket exists.

Calls: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts, ListMultipartUploads, PutObject, HeadObject,
DeleteObject, HeadBucket (PutObjectAcl and PutObjectTagging are accepted and ignored). ``Content-MD5`` is checked (400 BadDigest);
``Transfer-Encoding: chunked`` bodies (``aws-chunked``) are decoded.

Run: ``python tests/benchmarks/null_s3.py --port 9100`` (prints ``ready <port>``).
Used by bench_cos_upload.py. Test infrastructure only, never shipped.
"""

import argparse
import base64
import binascii
import hashlib
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

BLOCK = 1 << 20
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def http_date(ts):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))


class State(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.uploads = {}   # upload_id -> dict(bucket, key, meta, parts{n: (size, etag)}, initiated)
        self.objects = {}   # (bucket, key) -> dict(size, etag, meta, mtime)
        self.bytes_received = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "null-s3"
    state = None  # set by serve()

    def log_message(self, fmt, *args):  # quiet
        pass

    # helpers -----------------------------------------------------------
    def _target(self):
        parts = urlsplit(self.path)
        path = parts.path.lstrip("/")
        bucket, _, key = path.partition("/")
        query = parse_qs(parts.query, keep_blank_values=True)
        return unquote(bucket), unquote(key), query

    def _send(self, status, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code, message, resource=""):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                "<Resource>%s</Resource><RequestId>null</RequestId></Error>"
                % (code, escape(message), escape(resource)))
        self._send(status, body if self.command != "HEAD" else b"")

    def _read_body(self):
        """Read the request body; return (size, md5 digest, raw bytes if small)."""
        md5 = hashlib.md5()
        size = 0
        small = bytearray()
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        aws_chunked = "aws-chunked" in (self.headers.get("Content-Encoding") or "")
        buf = bytearray(BLOCK)
        view = memoryview(buf)

        def consume(n):
            nonlocal size
            while n > 0:
                got = self.rfile.readinto(view[:min(n, BLOCK)])
                if not got:
                    raise ConnectionError("client closed the connection")
                md5.update(view[:got])
                if size < 65536:
                    small.extend(view[:min(got, 65536 - size)])
                size += got
                n -= got

        if te == "chunked" or aws_chunked:
            # aws-chunked: "<hex>[;chunk-signature=...]\r\n<data>\r\n" ... "0\r\n<trailers>\r\n\r\n"
            while True:
                line = self.rfile.readline(65537).strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    break
                consume(n)
                self.rfile.readline(3)
        else:
            consume(int(self.headers.get("Content-Length") or 0))
        with self.state.lock:
            self.state.bytes_received += size
        return size, md5.digest(), bytes(small)

    def _check_md5(self, digest):
        want = self.headers.get("Content-MD5")
        if want is None:
            return True
        try:
            ok = base64.b64decode(want) == digest
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            self._error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        return ok

    def _meta(self):
        return dict((k.lower(), v) for k, v in self.headers.items() if k.lower().startswith("x-amz-meta-"))

    # verbs ---------------------------------------------------------------
    def do_PUT(self):
        bucket, key, q = self._target()
        if not key or "acl" in q or "tagging" in q:
            self._read_body()  # bucket calls, ACLs and tags: accepted, not kept
            return self._send(200)
        size, digest, _ = self._read_body()
        if not self._check_md5(digest):
            return
        etag = '"%s"' % digest.hex()
        st = self.state
        if "uploadId" in q:
            uid = q["uploadId"][0]
            n = int(q.get("partNumber", ["0"])[0])
            with st.lock:
                up = st.uploads.get(uid)
                if up is None:
                    return self._error(404, "NoSuchUpload", "The specified upload does not exist.", key)
                up["parts"][n] = (size, etag, time.time())
            return self._send(200, headers={"ETag": etag})
        with st.lock:
            st.objects[(bucket, key)] = {"size": size, "etag": etag, "meta": self._meta(), "mtime": time.time()}
        self._send(200, headers={"ETag": etag})

    def do_POST(self):
        bucket, key, q = self._target()
        st = self.state
        if "uploads" in q:
            self._read_body()
            uid = uuid.uuid4().hex
            with st.lock:
                st.uploads[uid] = {"bucket": bucket, "key": key, "meta": self._meta(), "parts": {},
                                   "initiated": time.time()}
            return self._send(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult %s>"
                                   "<Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>"
                                   "</InitiateMultipartUploadResult>" % (NS, escape(bucket), escape(key), uid))
        if "uploadId" in q:
            _, _, body = self._read_body()
            uid = q["uploadId"][0]
            wanted = [(int(n), e.strip().strip('"').replace("&quot;", ""))
                      for n, e in re.findall(r"<PartNumber>(\d+)</PartNumber>\s*<ETag>([^<]*)</ETag>",
                                             body.decode("utf-8", "replace"))]
            if not wanted:  # ETag before PartNumber
                wanted = [(int(n), e.strip().strip('"').replace("&quot;", ""))
                          for e, n in re.findall(r"<ETag>([^<]*)</ETag>\s*<PartNumber>(\d+)</PartNumber>",
                                                 body.decode("utf-8", "replace"))]
            with st.lock:
                up = st.uploads.get(uid)
                if up is None:
                    return self._error(404, "NoSuchUpload", "The specified upload does not exist.", key)
                md5s, size = [], 0
                for n, etag in wanted:
                    have = up["parts"].get(n)
                    if have is None or have[1].strip('"') != etag:
                        return self._error(400, "InvalidPart", "Part %d missing or ETag mismatch." % n, key)
                    md5s.append(binascii.unhexlify(etag))
                    size += have[0]
                etag = '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(md5s))
                st.objects[(bucket, key)] = {"size": size, "etag": etag, "meta": up["meta"], "mtime": time.time()}
                del st.uploads[uid]
            return self._send(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult %s>"
                                   "<Location>/%s/%s</Location><Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag>"
                                   "</CompleteMultipartUploadResult>"
                                   % (NS, escape(bucket), escape(key), escape(bucket), escape(key), escape(etag)))
        self._read_body()
        self._error(400, "InvalidRequest", "unsupported POST")

    def do_GET(self):
        bucket, key, q = self._target()
        st = self.state
        if "uploadId" in q:
            uid = q["uploadId"][0]
            with st.lock:
                up = st.uploads.get(uid)
                if up is None:
                    return self._error(404, "NoSuchUpload", "The specified upload does not exist.", key)
                parts = sorted(up["parts"].items())
            marker = int(q.get("part-number-marker", ["0"])[0] or 0)
            maxp = int(q.get("max-parts", ["1000"])[0])
            parts = [p for p in parts if p[0] > marker]
            page, more = parts[:maxp], len(parts) > maxp
            items = "".join("<Part><PartNumber>%d</PartNumber><LastModified>%s</LastModified><ETag>%s</ETag>"
                            "<Size>%d</Size></Part>" % (n, iso(t), escape(e), s) for n, (s, e, t) in page)
            nxt = "<NextPartNumberMarker>%d</NextPartNumberMarker>" % page[-1][0] if more else ""
            return self._send(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListPartsResult %s><Bucket>%s</Bucket>"
                                   "<Key>%s</Key><UploadId>%s</UploadId><MaxParts>%d</MaxParts>"
                                   "<IsTruncated>%s</IsTruncated>%s%s</ListPartsResult>"
                                   % (NS, escape(bucket), escape(key), uid, maxp, "true" if more else "false",
                                      nxt, items))
        if "uploads" in q:
            prefix = q.get("prefix", [""])[0]
            with st.lock:
                ups = [(u, d) for u, d in st.uploads.items() if d["bucket"] == bucket and d["key"].startswith(prefix)]
            items = "".join("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated>"
                            "<StorageClass>STANDARD</StorageClass></Upload>"
                            % (escape(d["key"]), u, iso(d["initiated"])) for u, d in ups)
            return self._send(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListMultipartUploadsResult %s>"
                                   "<Bucket>%s</Bucket><Prefix>%s</Prefix><MaxUploads>1000</MaxUploads>"
                                   "<IsTruncated>false</IsTruncated>%s</ListMultipartUploadsResult>"
                                   % (NS, escape(bucket), escape(prefix), items))
        self._error(501, "NotImplemented", "this endpoint keeps no data")

    def do_HEAD(self):
        bucket, key, _ = self._target()
        if not key:
            return self._send(200)
        with self.state.lock:
            obj = self.state.objects.get((bucket, key))
        if obj is None:
            return self._send(404)
        headers = {"ETag": obj["etag"], "Last-Modified": http_date(obj["mtime"])}
        headers.update(obj["meta"])
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(obj["size"]))
        self.end_headers()

    def do_DELETE(self):
        bucket, key, q = self._target()
        with self.state.lock:
            if "uploadId" in q:
                if self.state.uploads.pop(q["uploadId"][0], None) is None:
                    return self._error(404, "NoSuchUpload", "The specified upload does not exist.", key)
            else:
                self.state.objects.pop((bucket, key), None)
        self._send(204)


def serve(port, host="127.0.0.1"):
    Handler.state = State()
    srv = ThreadingHTTPServer((host, port), Handler)
    srv.daemon_threads = True
    srv.request_queue_size = 64
    return srv


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    srv = serve(args.port)
    print("ready %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
