"""The store's semantics and quotas, without HTTP (over the `backend` fixture's storage)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpoint_endpoints import (
    ChannelType,
    EndpointDemographic,
    EndpointLocation,
    EndpointRequest,
    EndpointResponse,
    EndpointUser,
)
from pinpoint_endpoints.testing._backend import Backend
from pinpoint_endpoints.testing._store import Store, StoreError, _size_bound, _wire_size

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_upsert_creates_then_keeps_fields_not_sent(store: Store) -> None:
    store.update("app", "ep", EndpointRequest(channel_type="SMS", address="+12065550100",
                                              opt_out="NONE"))
    store.update("app", "ep", EndpointRequest(opt_out="ALL"))
    ep = store.get("app", "ep")
    assert ep is not None
    assert (ep.channel_type, ep.address, ep.opt_out) == ("SMS", "+12065550100", "ALL")
    assert ep.application_id == "app" and ep.id == "ep"


def test_created_endpoint_has_cohort_dates_and_active_status(store: Store) -> None:
    store.update("app", "ep", EndpointRequest(address="a@example.com"))
    ep = store.get("app", "ep")
    assert ep is not None and ep.cohort_id is not None and ep.creation_date is not None
    assert 0 <= int(ep.cohort_id) <= 99
    assert ISO_MS.match(ep.creation_date) and ISO_MS.match(ep.effective_date or "")
    assert ep.endpoint_status == "ACTIVE"


def test_creation_date_and_cohort_survive_updates_but_effective_date_follows_request(
    store: Store,
) -> None:
    store.update("app", "ep", EndpointRequest(address="x"))
    first = store.get("app", "ep")
    store.update("app", "ep", EndpointRequest(effective_date="2024-01-01T00:00:00.000Z"))
    second = store.get("app", "ep")
    assert first is not None and second is not None
    assert (second.cohort_id, second.creation_date) == (first.cohort_id, first.creation_date)
    assert second.effective_date == "2024-01-01T00:00:00.000Z"


def test_seed_makes_cohorts_repeatable() -> None:
    def cohorts(seed: int) -> list[str | None]:
        store = Store(seed=seed)
        for i in range(5):
            store.update("app", f"e{i}", EndpointRequest())
        return [ep.cohort_id for ep in store.endpoints("app").values()]

    assert cohorts(3) == cohorts(3)


def test_maps_merge_per_key_and_empty_list_clears(store: Store) -> None:
    store.update("app", "ep", EndpointRequest(attributes={"a": ["1"], "b": ["2"]},
                                              metrics={"m": 1.0, "n": 2.0}))
    store.update("app", "ep", EndpointRequest(attributes={"a": [], "c": ["3"]},
                                              metrics={"n": 5.0}))
    ep = store.get("app", "ep")
    assert ep is not None
    assert ep.attributes == {"a": [], "b": ["2"], "c": ["3"]}
    assert ep.metrics == {"m": 1.0, "n": 5.0}


def test_user_attributes_are_shared_by_the_users_endpoints(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(
        user=EndpointUser(user_id="u", user_attributes={"name": ["Ann"]})))
    store.update("app", "e2", EndpointRequest(user=EndpointUser(user_id="u")))
    store.update("app", "e2", EndpointRequest(user=EndpointUser(user_attributes={"tier": ["1"]})))
    for ep_id in ("e1", "e2"):
        ep = store.get("app", ep_id)
        assert ep is not None and ep.user is not None
        assert ep.user.user_id == "u"
        assert ep.user.user_attributes == {"name": ["Ann"], "tier": ["1"]}


def test_same_address_turns_the_others_inactive(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(address="a@example.com"))
    store.update("app", "e2", EndpointRequest(address="a@example.com"))
    store.update("other", "e3", EndpointRequest(address="a@example.com"))
    assert store.get("app", "e1").endpoint_status == "INACTIVE"  # type: ignore[union-attr]
    assert store.get("app", "e2").endpoint_status == "ACTIVE"  # type: ignore[union-attr]
    assert store.get("other", "e3").endpoint_status == "ACTIVE"  # type: ignore[union-attr]
    store.update("app", "e1", EndpointRequest(opt_out="NONE"))
    assert store.get("app", "e1").endpoint_status == "ACTIVE"  # type: ignore[union-attr]
    assert store.get("app", "e2").endpoint_status == "INACTIVE"  # type: ignore[union-attr]


def test_endpoint_ids_are_case_insensitive_and_keep_first_spelling(store: Store) -> None:
    store.update("app", "Device-A", EndpointRequest(address="x"))
    store.update("app", "DEVICE-a", EndpointRequest(opt_out="ALL"))
    assert list(store.endpoints("app")) == ["Device-A"]
    assert store.get("app", "device-a") is not None
    assert store.get("APP", "device-a") is None
    deleted = store.delete("app", "device-A")
    assert deleted is not None and deleted.opt_out == "ALL"
    assert store.get("app", "Device-A") is None
    assert store.delete("app", "Device-A") is None


def test_too_long_name_or_value_or_too_many_values_is_refused_without_change(store: Store) -> None:
    bad = [
        EndpointRequest(attributes={"n" * 51: ["v"]}),
        EndpointRequest(metrics={"n" * 51: 1.0}),
        EndpointRequest(attributes={"n": ["v" * 101]}),
        EndpointRequest(attributes={"n": ["v"] * 51}),
        EndpointRequest(user=EndpointUser(user_attributes={"n": ["v" * 101]})),
    ]
    for request in bad:
        with pytest.raises(StoreError) as info:
            store.update("app", "ep", request)
        assert info.value.status == 400 and info.value.code == "BadRequestException"
    assert store.get("app", "ep") is None
    store.update("app", "ep", EndpointRequest(attributes={"n" * 50: ["v" * 100] * 50}))


def test_250_attribute_names_per_application_across_maps(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(attributes={f"a{i}": ["v"] for i in range(100)}))
    store.update("app", "e2", EndpointRequest(metrics={f"m{i}": 1.0 for i in range(100)}))
    store.update("app", "e3", EndpointRequest(
        user=EndpointUser(user_id="u", user_attributes={f"u{i}": ["v"] for i in range(50)})))
    store.update("app", "e4", EndpointRequest(attributes={"a1": ["again"]}))  # known name
    with pytest.raises(StoreError, match="250"):
        store.update("app", "e5", EndpointRequest(metrics={"one-more": 1.0}))
    assert store.get("app", "e5") is None
    store.update("other-app", "e1", EndpointRequest(metrics={"one-more": 1.0}))


def test_15_endpoints_per_user(store: Store) -> None:
    for i in range(15):
        store.update("app", f"e{i}", EndpointRequest(user=EndpointUser(user_id="u")))
    store.update("app", "e0", EndpointRequest(user=EndpointUser(user_id="u")))  # no new one
    with pytest.raises(StoreError) as info:
        store.update("app", "e15", EndpointRequest(user=EndpointUser(user_id="u")))
    assert info.value.message == "Exceeded maximum endpoint per user count: 15"
    assert store.get("app", "e15") is None


def test_endpoint_size_limit_15_kb(store: Store) -> None:
    request = EndpointRequest(attributes={f"k{i}": ["v" * 100] * 50 for i in range(4)})
    with pytest.raises(StoreError, match="15 KB"):
        store.update("app", "ep", request)
    assert store.get("app", "ep") is None


def test_endpoint_size_limit_is_exact_with_the_user_s_shared_attributes(store: Store) -> None:
    """The limit counts the endpoint as a reply shows it: compact JSON, non-ASCII escaped,
    the user's shared attributes included; 15 KB passes, one byte more does not."""
    user = EndpointUser(user_id="u", user_attributes={"Name": ["Zoë"]})

    def write(pad: int) -> None:
        store.update("app", "ep", EndpointRequest(demographic=EndpointDemographic(make="x" * pad),
                                                  user=user))

    def size() -> int:
        shown = store.get("app", "ep")
        assert shown is not None
        return len(json.dumps(shown.to_dict(), separators=(",", ":")).encode())

    write(1000)
    exact = 1000 + 15 * 1024 - size()
    write(exact)
    assert size() == 15 * 1024
    with pytest.raises(StoreError, match="15361 bytes exceeds"):
        write(exact + 1)


# any text: quotes, control characters, non-ASCII, astral and lone surrogates (as JSON
# escapes arrive)
_TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
_LISTS = st.dictionaries(_TEXT, st.lists(_TEXT, max_size=4), max_size=4)
_NUMBER = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(
    ep=st.builds(
        EndpointResponse, channel_type=st.none() | st.sampled_from(list(ChannelType)) | _TEXT,
        address=_TEXT, attributes=st.none() | _LISTS,
        metrics=st.none() | st.dictionaries(_TEXT, _NUMBER, max_size=4),
        location=st.none() | st.builds(EndpointLocation, latitude=_NUMBER, city=_TEXT),
        demographic=st.none() | st.builds(EndpointDemographic, make=_TEXT, locale=_TEXT),
        user=st.none() | st.builds(EndpointUser, user_id=_TEXT,
                                   user_attributes=st.none() | _LISTS),
        id=_TEXT, cohort_id=_TEXT,
    ),
    shared=st.none() | _LISTS,
)
def test_the_size_check_s_quick_bound_is_never_below_the_exact_size(
    ep: EndpointResponse, shared: dict[str, list[str]] | None
) -> None:
    """Writes skip the exact size when the bound is within the limit: it must never be low."""
    assert _size_bound(ep, shared) >= _wire_size(ep, shared)


def test_propagation_delay_shows_the_old_state_until_it_passes(backend: Backend) -> None:
    now = [0.0]
    store = Store(backend, propagation_delay=1.0, clock=lambda: now[0])
    store.update("app", "ep", EndpointRequest(opt_out="NONE"))
    assert store.read("app", "ep") is None
    assert store.get("app", "ep") is not None  # inspection never lags
    now[0] = 1.5
    store.update("app", "ep", EndpointRequest(opt_out="ALL"))
    assert store.read("app", "ep").opt_out == "NONE"  # type: ignore[union-attr]
    now[0] = 2.6
    assert store.read("app", "ep").opt_out == "ALL"  # type: ignore[union-attr]
    store.delete("app", "ep")
    assert store.read("app", "ep") is not None
    now[0] = 4.0
    assert store.read("app", "ep") is None
