"""Recipient imports: small ones at once, large ones in the background, exactly once."""

from __future__ import annotations

import time

import boto3
from sendrail_local.event_sources import drain_once

from tests.conftest import Api


def run_import_worker(aws, limit: int = 2000) -> int:
    """Lambda's event source mapping for the import queue, driven by hand."""
    from sendrail_local.lambdas import LocalContext

    from functions.enqueue.handler import handler

    handled = 0
    for _ in range(limit):
        got = drain_once(
            aws.queues["import"], lambda event: handler(event, LocalContext("enqueue", 29))
        )
        if not got:
            return handled
        handled += got
    raise AssertionError("the import queue did not drain")


def test_given_a_csv_then_columns_become_data_and_rows_are_reported_by_number(api: Api, tenant):
    cid = api.post(
        "/api/campaigns", {"name": "n", "subject": "Hi {{ First }}", "html": "<p>h</p>"}
    ).body["id"]
    csv = (
        "Email,First,City\nann@example.com,Ann,Paris\nbad-address,Bo,Rome\n\n"
        "ANN@example.com,Dup,X\ncy@example.com,,\n"
    )
    reply = api.call(
        "POST", f"/api/campaigns/{cid}/recipients", raw=csv.encode(), content_type="text/csv"
    )
    assert reply.status == 200
    assert (reply.body["added"], reply.body["duplicates"], reply.body["suppressed"]) == (2, 1, 0)
    assert [i["row"] for i in reply.body["invalid"]] == [2]
    rows = {r["email"]: r for r in api.get(f"/api/campaigns/{cid}/recipients").body["items"]}
    assert rows["ann@example.com"]["data"] == {"First": "Ann", "City": "Paris"}
    again = api.call(
        "POST", f"/api/campaigns/{cid}/recipients", raw=csv.encode(), content_type="text/csv"
    )
    assert (again.body["added"], again.body["duplicates"]) == (0, 3)


def test_given_100k_csv_rows_then_they_import_in_the_background_completely_and_exactly_once(
    api: Api, tenant, aws
):
    cid = api.post("/api/campaigns", {"name": "big", "subject": "s", "html": "<p>h</p>"}).body["id"]
    api.post("/api/suppressions", {"email": "user00042@example.com"})
    api.post(
        f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": "user00007@example.com"}]}
    )
    lines = ["email,n"] + [f"user{i:05d}@example.com,{i}" for i in range(100_000)]
    lines += ["user00001@EXAMPLE.com,dup", "nope,bad"]
    started = time.perf_counter()
    reply = api.call(
        "POST",
        f"/api/campaigns/{cid}/recipients",
        raw="\n".join(lines).encode(),
        content_type="text/csv",
    )
    accepted_in = time.perf_counter() - started
    assert reply.status == 202, reply.raw
    job = reply.body["job"]
    assert job["status"] == "importing" and job["rows"] == 100_000
    assert reply.body["duplicates"] == 1 and [i["row"] for i in reply.body["invalid"]] == [100_002]
    assert accepted_in < 29  # API Gateway's limit, with room to spare on this machine
    assert api.get(f"/api/campaigns/{cid}").body["imports_pending"] == job["chunks"]
    assert api.post(f"/api/campaigns/{cid}/start").status == 202  # may start while importing

    # A chunk delivered twice must not count twice: re-send the first chunk's message.
    sqs = boto3.client("sqs", region_name="us-east-1")
    first = sqs.receive_message(
        QueueUrl=aws.queues["import"], MaxNumberOfMessages=1, VisibilityTimeout=0
    )
    sqs.send_message(QueueUrl=aws.queues["import"], MessageBody=first["Messages"][0]["Body"])

    assert run_import_worker(aws) == job["chunks"] + 1
    done = api.get(f"/api/campaigns/{cid}/imports/{job['id']}").body
    assert done["status"] == "done" and done["chunks_done"] == job["chunks"]
    assert (done["added"], done["suppressed"]) == (99_998, 1)
    assert done["duplicates"] == 2  # one in the upload, one already in the campaign
    campaign = api.get(f"/api/campaigns/{cid}").body
    assert campaign["imports_pending"] == 0
    assert campaign["counts"]["total"] == 100_000
    assert (campaign["counts"]["queued"], campaign["counts"]["suppressed"]) == (99_999, 1)
    table = boto3.client("dynamodb", region_name="us-east-1")
    count = table.query(
        TableName=aws.tables["recipients"],
        KeyConditionExpression="campaign_id = :c",
        ExpressionAttributeValues={":c": {"S": cid}},
        Select="COUNT",
    )
    total = count["Count"]
    while "LastEvaluatedKey" in count:
        count = table.query(
            TableName=aws.tables["recipients"],
            KeyConditionExpression="campaign_id = :c",
            ExpressionAttributeValues={":c": {"S": cid}},
            Select="COUNT",
            ExclusiveStartKey=count["LastEvaluatedKey"],
        )
        total += count["Count"]
    assert total == 100_000  # exactly once, each address one item
