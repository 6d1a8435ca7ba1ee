"""Requests recorded from the official SDKs (tencentcloud-sdk-python-sms 3.1.153 with -common
3.1.195; alibabacloud-dysmsapi20170525 4.6.0 with alibabacloud-tea-openapi 0.4.6), each signing a
SendSms with the made-up credentials below, sent to a loopback fake. They are known answers for
both sides: our fakes must accept them, and our signers must produce the same signatures.
"""

from __future__ import annotations

TENCENT_SECRET_ID = "AKIDoracle0000000000000000000000000"
TENCENT_SECRET_KEY = "oracleTencentSecretKey000000000000"
TENCENT_TIMESTAMP = 1796301295
TENCENT_HEADERS = {
    "content-type": "application/json",
    "host": "127.0.0.1:44297",
    "x-tc-action": "SendSms",
    "x-tc-timestamp": "1796301295",
    "x-tc-version": "2021-01-11",
    "x-tc-region": "ap-guangzhou",
    "x-tc-language": "zh-CN",
    "x-tc-requestclient": "SDK_PYTHON_3.1.153",
    "authorization": (
        "TC3-HMAC-SHA256 Credential=AKIDoracle0000000000000000000000000/2026-12-03/sms/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=f7f9917b2ce3420f5c236ed7070a679333d8dd1913dacd3ccd6de00c1da9b058"
    ),
}
TENCENT_BODY = (
    b'{"PhoneNumberSet": ["+8613812341234"], "SmsSdkAppId": "1400000001", "TemplateId": "123456", '
    b'"SignName": "\\u6c99\\u53bf\\u96f6\\u5de5", "TemplateParamSet": ["654321"]}'
)
"""The SDK signs ``content-type;host`` only (we also sign ``x-tc-action``)."""

ALIYUN_ACCESS_KEY_ID = "LTAI5toracle000000000000"
ALIYUN_ACCESS_KEY_SECRET = "oracleAliyunSecret0000000000000"
ALIYUN_DATE = "2026-12-03T12:34:56Z"
ALIYUN_HEADERS = {
    "accept": "application/json",
    "host": "127.0.0.1:42283",
    "user-agent": "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
    "x-acs-action": "SendSms",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-acs-credentials-provider": "static_ak",
    "x-acs-date": "2026-12-03T12:34:56Z",
    "x-acs-signature-nonce": "9aae2d38a9f0c85bf2deca2e901c9f4f",
    "x-acs-version": "2017-05-25",
    "authorization": (
        "ACS3-HMAC-SHA256 Credential=LTAI5toracle000000000000,"
        "SignedHeaders=accept;host;user-agent;x-acs-action;x-acs-content-sha256;"
        "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=ace3c04f1b853bc4fc051919d89a40f7df3a8bbd2b545294088d4967ecf341b0"
    ),
}
ALIYUN_QUERY = {
    "PhoneNumbers": "13812341234",
    "SignName": "沙县零工",
    "TemplateCode": "SMS_123456789",
    "TemplateParam": "{\"code\":\"654321\"}",
}
"""POST / with these query parameters and an empty body (the SDK's RPC style for SendSms)."""
