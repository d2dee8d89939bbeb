"""COS: moto's S3 server with IAM auth on, so that wrong HMAC keys really fail."""

import os
import secrets

from sandbox.peers.base import PeerError, ProcessPeer

BUCKETS = ("vmimport-images", "vmimport-scratch")
REGION = "us-east"


class CosPeer(ProcessPeer):
    """IBM COS stand-in: moto[server] S3 on loopback, SigV4-authenticated HMAC keys."""

    name = "cos"
    # requests served without authentication: CreateUser, PutUserPolicy, CreateAccessKey
    _bootstrap_calls = 3

    def command(self):
        moto = os.path.join(os.path.dirname(self.ctx.python), "moto_server")
        if not os.path.exists(moto):
            raise PeerError(self.name, "moto_server not found next to %s: install 'moto[server]' "
                            "(make venv does)" % self.ctx.python)
        return [moto, "-H", "127.0.0.1", "-p", str(self.port)]

    def env(self):
        return {"INITIAL_NO_AUTH_ACTION_COUNT": str(self._bootstrap_calls),
                "MOTO_ALLOW_NONEXISTENT_REGION": "true",
                "AWS_DEFAULT_REGION": "us-east-1"}

    @property
    def endpoint(self):
        return "http://127.0.0.1:%s" % self.port

    def after_start(self):
        import boto3
        boot = dict(endpoint_url=self.endpoint, region_name="us-east-1",
                    aws_access_key_id="bootstrap", aws_secret_access_key=secrets.token_hex(8))
        iam = boto3.client("iam", **boot)
        iam.create_user(UserName="vmimport")
        iam.put_user_policy(UserName="vmimport", PolicyName="all",
                            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
        key = iam.create_access_key(UserName="vmimport")["AccessKey"]
        self.access_key_id = key["AccessKeyId"]
        self.secret_access_key = key["SecretAccessKey"]
        s3 = self.client()
        for b in BUCKETS:
            s3.create_bucket(Bucket=b)

    def client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def inventory(self):
        return {
            "cos_endpoint_url": self.endpoint,
            "cos_region": REGION,
            "cos_bucket": BUCKETS[0],
            "cos_scratch_bucket": BUCKETS[1],
            "cos_access_key_id": self.access_key_id,
            "cos_secret_access_key": self.secret_access_key,
        }
