"""The wire JSON the benchmarks send and receive: every field of the Endpoint resource set."""

from __future__ import annotations

from typing import Any

ENDPOINT_REQUEST: dict[str, Any] = {
    "ChannelType": "SMS",
    "Address": "+12065550100",
    "EndpointStatus": "ACTIVE",
    "OptOut": "NONE",
    "RequestId": "req-1",
    "Location": {
        "Latitude": 47.6, "Longitude": -122.3, "PostalCode": "98101",
        "City": "Seattle", "Region": "WA", "Country": "USA",
    },
    "Demographic": {
        "Make": "Apple", "Model": "iPhone", "ModelVersion": "15",
        "Timezone": "America/Los_Angeles", "Locale": "en_US", "AppVersion": "1.2",
        "Platform": "ios", "PlatformVersion": "17",
    },
    "EffectiveDate": "2026-11-26T00:00:00.000Z",
    "Attributes": {"Interests": ["music", "travel"], "Tier": ["gold"]},
    "Metrics": {"score": 4.5, "visits": 3.0},
    "User": {"UserId": "user-1", "UserAttributes": {"Plan": ["gold"], "Lang": ["en"]}},
}

ENDPOINT_RESPONSE: dict[str, Any] = {
    **ENDPOINT_REQUEST,
    "ApplicationId": "bench-app",
    "Id": "device-1",
    "CohortId": "63",
    "CreationDate": "2026-01-28T23:55:11.534Z",
}

MESSAGE_BODY: dict[str, Any] = {"RequestID": "67e572ed-0000-4000-8000-000000000000",
                                "Message": "Accepted"}
