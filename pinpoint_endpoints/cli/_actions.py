"""What each bulk command sends for a unit of records, and each record's outcome.

``import`` sends UpdateEndpointsBatch; a batch the service (or the client's own checks)
rejects as a whole is split in halves and resent until each bad record stands alone, so the
good records land and exactly the bad ones fail, each with the message it got.

Example:
    >>> action = upsert(client, "my-app", batch_size=100)  # doctest: +SKIP
    >>> action([record_1, bad_record, record_3])  # doctest: +SKIP
    [None, BadRequestException(...), None]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

import pinpoint_endpoints as pe
from pinpoint_endpoints import _operations as ops
from pinpoint_endpoints.cli._bulk import Action, Cancelled, Outcome, each
from pinpoint_endpoints.cli._records import Record

__all__ = ["delete", "export", "upsert"]

_REJECTED: Final = (pe.BadRequestException, pe.PayloadTooLargeException, pe.ValidationError)
"""Refusals of a batch that one of its records may cause: split and resend."""


def upsert(client: pe.Client, app: str, *, batch_size: int) -> Action:
    """UpdateEndpointsBatch for each unit of records (UpdateEndpoint each, when 1 a unit)."""
    if batch_size == 1:
        return each(lambda record: _update_one(client, app, record))

    def send(records: Sequence[Record]) -> list[Outcome]:
        try:
            # what `update_endpoints_batch` checks holds already: 1 to 100 records, ids
            # checked as read and distinct within a unit (the runner forms units so)
            body = '{"Item":[' + ",".join(map(_wire, records)) + "]}"
            client._call(ops.UPDATE_ENDPOINTS_BATCH, ops.app_params(app),
                         ops.Encoded(body.encode("utf-8")))
        except _REJECTED as exc:
            if len(records) == 1:
                return [exc]
            half = len(records) // 2
            return [*send(records[:half]), *send(records[half:])]
        except (Cancelled, pe.CredentialsError):
            raise  # the run stops: nothing of this unit counts as done
        except Exception as exc:  # retries spent: this part of the unit failed alike
            return [exc] * len(records)
        return [None] * len(records)

    return send


def _wire(record: Record) -> str:
    """The record's item as JSON: its line as read, else encoded from the model."""
    if record.wire is not None:
        return record.wire
    return json.dumps(_item(record).to_dict(), allow_nan=False)


def _item(record: Record) -> pe.EndpointBatchItem:
    assert record.item is not None
    return record.item


def _update_one(client: pe.Client, app: str, record: Record) -> None:
    item = _item(record)
    assert item.id is not None
    client.update_endpoint(app, item.id, item.to_request())


def delete(client: pe.Client, app: str, absent: list[str]) -> Action:
    """DeleteEndpoint for each record; an id already gone is appended to ``absent``."""

    def one(record: Record) -> None:
        assert record.endpoint_id is not None
        try:
            client.delete_endpoint(app, record.endpoint_id)
        except pe.NotFoundException:
            absent.append(record.endpoint_id)  # list.append is atomic: workers share it

    return each(one)


def export(client: pe.Client, app: str, *, users: bool) -> Action:
    """GetEndpoint (or GetUserEndpoints) for each record: one endpoint's JSON a line."""

    def one(record: Record) -> str | None:
        assert record.endpoint_id is not None
        if users:
            found = client.get_user_endpoints(app, record.endpoint_id).item or []
        else:
            found = [client.get_endpoint(app, record.endpoint_id)]
        return "\n".join(json.dumps(ep.to_dict(), ensure_ascii=False) for ep in found) or None

    return each(one)
