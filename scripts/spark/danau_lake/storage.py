"""Small objects in the object store: specs, results, the Hudi timeline's file names and commits.

boto3, not Spark: under Spark Connect there is no JVM handle for Hadoop's FileSystem, and a listing
through a Spark job would cost a job. s3://, s3a:// and s3n:// URIs go to S3 (the endpoint from
DANAU_S3_ENDPOINT when set: the local object store); anything else is a local path (tests).
"""

import functools
import os
import shutil
from urllib.parse import unquote, urlparse

S3_SCHEMES = ("s3", "s3a", "s3n")


@functools.lru_cache(maxsize=1)
def _client():
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("DANAU_S3_ENDPOINT") or None
    path_style = endpoint is not None and os.environ.get("DANAU_S3_FORCE_PATH_STYLE", "true") == "true"
    config = Config(
        s3={"addressing_style": "path" if path_style else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"), config=config)


def _split(uri):
    """(bucket, key) of an S3 URI, or (None, local path)."""
    parsed = urlparse(uri)
    if parsed.scheme in S3_SCHEMES:
        return parsed.netloc, parsed.path.lstrip("/")
    if parsed.scheme == "file":
        return None, parsed.path
    return None, uri


def plain_uri(uri):
    """input_file_name() gives a URL-encoded URI (`a%20b`); listing and reading want the plain one."""
    return unquote(uri)


def read_text(uri):
    bucket, key = _split(uri)
    if bucket is None:
        with open(key, encoding="utf-8") as f:
            return f.read()
    return _client().get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def write_text(uri, text):
    bucket, key = _split(uri)
    if bucket is None:
        os.makedirs(os.path.dirname(key) or ".", exist_ok=True)
        with open(key, "w", encoding="utf-8") as f:
            f.write(text)
        return
    _client().put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")


def exists(uri):
    """An object, or a "directory": any object under `<uri>/` (Spark writes a folder of parts)."""
    bucket, key = _split(uri)
    if bucket is None:
        return os.path.exists(key)
    s3 = _client()
    if key and not key.endswith("/"):
        try:
            s3.head_object(Bucket=bucket, Key=key)
            return True
        except s3.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
    prefix = key if key.endswith("/") or not key else key + "/"
    return s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0


def list_names(uri):
    """The names of the files directly under a folder (not recursive), or [] when it has none."""
    bucket, key = _split(uri)
    if bucket is None:
        return sorted(n for n in os.listdir(key) if os.path.isfile(os.path.join(key, n))) if os.path.isdir(key) else []
    prefix = key.rstrip("/") + "/"
    names, token = [], None
    while True:
        args = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
        if token:
            args["ContinuationToken"] = token
        page = _client().list_objects_v2(**args)
        names.extend(o["Key"][len(prefix):] for o in page.get("Contents", []))
        token = page.get("NextContinuationToken")
        if not token:
            return sorted(names)


def delete_tree(uri):
    """Every object under a folder, or the local directory; nothing when there is none."""
    bucket, key = _split(uri)
    if bucket is None:
        shutil.rmtree(key, ignore_errors=True)
        return
    prefix = key.rstrip("/") + "/"
    s3 = _client()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
