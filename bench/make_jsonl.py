#!/usr/bin/env python3
"""One big JSON-lines export for the streaming figures in BENCHMARKS.md: python3 bench/make_jsonl.py FILE RECORDS."""
import sys, random
# JSON lines, CloudTrail-shaped, ~1.1 KB a record. No eventID (so dedup holds nothing and the
# figure is the reader's), few principals and APIs (so stats' tables stay small).
out, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
apis = ["GetObject", "PutObject", "ListBuckets", "AssumeRole", "DescribeInstances", "GetCallerIdentity"]
tmpl = ('{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:{u}",'
        '"arn":"arn:aws:sts::111122223333:assumed-role/role{r}/{u}","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE{k:06d}",'
        '"sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/role{r}",'
        '"accountId":"111122223333","userName":"role{r}"}},"attributes":{{"creationDate":"2024-03-01T00:00:00Z","mfaAuthenticated":"false"}}}}}},'
        '"eventTime":"2024-03-{d:02d}T{h:02d}:{m:02d}:{s:02d}Z","eventSource":"s3.amazonaws.com","eventName":"{api}","awsRegion":"us-east-1",'
        '"sourceIPAddress":"10.0.{a}.{b}","userAgent":"aws-sdk-go/1.44.157 (go1.19.3; linux; amd64)","requestParameters":{{"bucketName":"bucket-{r}",'
        '"key":"path/to/object-{k}.json","Host":"bucket-{r}.s3.us-east-1.amazonaws.com"}},"responseElements":null,'
        '"additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":{k}}},'
        '"requestID":"REQ{k:012d}","readOnly":true,"resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::bucket-{r}/path/to/object-{k}.json"}}],'
        '"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data"}}\n')
block = "".join(tmpl.format(u=f"user{i%20}", r=i % 5, k=i, d=1 + i % 28, h=i % 24, m=i % 60, s=(i * 7) % 60, api=apis[i % 6], a=i % 250, b=(i // 250) % 250) for i in range(20000))
with open(out, "w") as f:
    for _ in range(n // 20000):
        f.write(block)
