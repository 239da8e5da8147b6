"""Put a file into moto's S3 server for bench/serving-autopilot.sh (run with .venv's Python).

Usage: s3_put.py ENDPOINT BUCKET KEY FILE
"""

import sys

import boto3


def main() -> int:
    endpoint, bucket, key, path = sys.argv[1:5]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(path, bucket, key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
