"""The Endpoint family's rules in the `Store` (no HTTP): enums, batches, users, removed
attributes and the push-channel rule, over the `backend` fixture's storage."""

from __future__ import annotations

import threading

import pytest

from pinpoint_endpoints import (
    EndpointBatchItem,
    EndpointRequest,
    EndpointResponse,
    EndpointUser,
)
from pinpoint_endpoints.testing._backend import Backend
from pinpoint_endpoints.testing._store import Store, StoreError


def user(user_id: str, **attributes: list[str]) -> EndpointUser:
    return EndpointUser(user_id=user_id, user_attributes=attributes or None)


def status(store: Store, endpoint_id: str) -> str | None:
    found = store.get("app", endpoint_id)
    assert found is not None
    return found.endpoint_status


# -- enum-valued fields -------------------------------------------------------------------------

@pytest.mark.parametrize(("request_", "field"), [
    (EndpointRequest(channel_type="FAX"), "ChannelType"),
    (EndpointRequest(opt_out="SOME"), "OptOut"),
    (EndpointRequest(endpoint_status="PAUSED"), "EndpointStatus"),
])
def test_values_outside_the_services_enums_are_refused_naming_the_field(
    store: Store, request_: EndpointRequest, field: str
) -> None:
    with pytest.raises(StoreError) as info:
        store.update("app", "ep", request_)
    assert info.value.status == 400 and info.value.path == field
    assert info.value.message.startswith(f"Invalid {field} ")
    assert store.get("app", "ep") is None


def test_every_documented_enum_value_is_accepted(store: Store) -> None:
    for channel in ("PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX",
                    "ADM", "SMS", "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP"):
        store.update("app", channel, EndpointRequest(channel_type=channel, opt_out="ALL",
                                                     endpoint_status="INACTIVE"))
    store.update("app", "x", EndpointRequest(opt_out="NONE", endpoint_status="ACTIVE"))
    assert len(store.endpoints("app")) == 14


# -- UpdateEndpointsBatch -----------------------------------------------------------------------

def test_batch_follows_the_single_update_rules_in_order(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(attributes={"a": ["1"], "b": ["2"]}))
    store.update_batch("app", [
        EndpointBatchItem(id="E1", attributes={"a": []}, address="x@example.com"),
        EndpointBatchItem(id="e2", address="x@example.com", user=user("u", n=["Ann"])),
        EndpointBatchItem(id="e3", user=user("u", t=["1"])),
    ])
    e1, e2, e3 = (store.get("app", i) for i in ("e1", "e2", "e3"))
    assert e1 is not None and e2 is not None and e3 is not None
    assert e1.id == "e1" and e1.attributes == {"a": [], "b": ["2"]}
    assert (e1.endpoint_status, e2.endpoint_status) == ("INACTIVE", "ACTIVE")
    assert e2.user == e3.user == user("u", n=["Ann"], t=["1"])


def test_an_invalid_item_names_its_index_and_field_and_nothing_is_applied(store: Store) -> None:
    items = [EndpointBatchItem(id=f"e{i}", address="a@example.com") for i in range(3)]
    items.append(EndpointBatchItem(id="e3", channel_type="FAX"))
    with pytest.raises(StoreError) as info:
        store.update_batch("app", items)
    assert info.value.status == 400
    assert info.value.message.startswith("Item[3].ChannelType: Invalid ChannelType 'FAX'")
    assert store.endpoints("app") == {}


def test_a_rule_broken_mid_batch_undoes_every_earlier_item(store: Store) -> None:
    for i in range(14):
        store.update("app", f"u{i}", EndpointRequest(user=user("u")))
    store.update("app", "old", EndpointRequest(address="a@example.com", attributes={"k": ["v"]}))
    before = store.endpoints("app")
    with pytest.raises(StoreError) as info:
        store.update_batch("app", [
            EndpointBatchItem(id="new-1", address="a@example.com", metrics={"m": 1.0}),
            EndpointBatchItem(id="old", attributes={"k": ["changed"]}),
            EndpointBatchItem(id="u14", user=user("u", name=["Ann"])),
            EndpointBatchItem(id="u15", user=user("u")),
        ])
    assert info.value.message == (
        "Item[3].User.UserId: Exceeded maximum endpoint per user count: 15")
    assert store.endpoints("app") == before  # statuses, attributes, users: as they were
    # the names of the refused batch were not counted either
    store.update("app", "fill", EndpointRequest(attributes={f"n{i}": ["v"] for i in range(249)}))


@pytest.mark.parametrize(("items", "message"), [
    ([], "Item must hold 1 to 100 endpoints, got 0."),
    ([EndpointBatchItem(id=f"e{i}") for i in range(101)],
     "Item must hold 1 to 100 endpoints, got 101."),
    ([EndpointBatchItem(id="a"), EndpointBatchItem(address="x")], "Item[1].Id: Id is required."),
    ([EndpointBatchItem(id="a"), EndpointBatchItem(id="b"), EndpointBatchItem(id="A")],
     "Item[2].Id: Id repeats Item[0].Id: ids are unique within a batch."),
])
def test_batch_shape_is_checked(store: Store, items: list[EndpointBatchItem],
                                message: str) -> None:
    with pytest.raises(StoreError) as info:
        store.update_batch("app", items)
    assert (info.value.status, info.value.message) == (400, message)
    assert store.endpoints("app") == {}


def test_batch_items_keep_the_size_and_value_limits(store: Store) -> None:
    big = {f"k{i}": ["v" * 100] * 50 for i in range(4)}
    with pytest.raises(StoreError, match=r"^Item\[1\]: Endpoint size \d+ bytes exceeds"):
        store.update_batch("app", [EndpointBatchItem(id="a"), EndpointBatchItem(id="b",
                                                                                attributes=big)])
    with pytest.raises(StoreError, match=r"^Item\[0\]\.Attributes\.k: Attributes k has 51"):
        store.update_batch("app", [EndpointBatchItem(id="a", attributes={"k": ["v"] * 51})])
    assert store.endpoints("app") == {}


def test_a_full_batch_of_100_applies(store: Store) -> None:
    store.update_batch("app", [EndpointBatchItem(id=f"e{i}") for i in range(100)])
    assert len(store.endpoints("app")) == 100


# -- GetUserEndpoints / DeleteUserEndpoints -----------------------------------------------------

def test_user_endpoints_are_every_endpoint_with_the_user_id(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(user=user("ann", tier=["gold"])))
    store.update("app", "e2", EndpointRequest(user=user("ann")))
    store.update("app", "e3", EndpointRequest(user=user("bob")))
    store.update("other", "e4", EndpointRequest(user=user("ann")))
    found = store.user_endpoints("app", "ann")
    assert [ep.id for ep in found] == ["e1", "e2"]
    assert all(ep.user == user("ann", tier=["gold"]) for ep in found)
    assert store.user_endpoints("app", "ANN") == []  # user ids are exact
    assert store.user_endpoints("app", "nobody") == []


def test_delete_user_returns_the_endpoints_as_they_were_and_forgets_the_user(
    store: Store,
) -> None:
    store.update("app", "e1", EndpointRequest(address="a@example.com",
                                              user=user("ann", tier=["gold"])))
    store.update("app", "e2", EndpointRequest(user=user("ann")))
    store.update("app", "e3", EndpointRequest(user=user("bob")))
    before = store.user_endpoints("app", "ann")
    assert store.delete_user("app", "ann") == before
    assert store.user_endpoints("app", "ann") == [] and list(store.endpoints("app")) == ["e3"]
    assert store.delete_user("app", "ann") == []
    store.update("app", "e5", EndpointRequest(user=user("ann")))
    again = store.get("app", "e5")
    assert again is not None and again.user == EndpointUser(user_id="ann", user_attributes=None)


def test_user_id_change_moves_the_endpoint_between_users(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(user=user("ann")))
    store.update("app", "e1", EndpointRequest(user=user("bob")))
    assert store.user_endpoints("app", "ann") == []
    assert [ep.id for ep in store.user_endpoints("app", "bob")] == ["e1"]


# -- RemoveAttributes ---------------------------------------------------------------------------

def test_removed_attributes_stop_being_captured_but_endpoints_keep_values(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(attributes={"Plan": ["gold"], "Team": ["a"]}))
    removed = store.remove_attributes("app", "endpoint-custom-attributes", ["Plan"])
    assert removed == ["Plan"]
    store.update("app", "e1", EndpointRequest(attributes={"Plan": ["free"], "Team": ["b"]}))
    store.update("app", "e2", EndpointRequest(attributes={"Plan": ["x"]}))
    e1, e2 = store.get("app", "e1"), store.get("app", "e2")
    assert e1 is not None and e1.attributes == {"Plan": ["gold"], "Team": ["b"]}
    assert e2 is not None and e2.attributes == {}


def test_patterns_match_known_names_and_later_ones(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(
        metrics={"cart.items": 1.0, "cart.total": 2.0, "sessions": 3.0}))
    removed = store.remove_attributes("app", "endpoint-metric-attributes", ["cart.*", "gone"])
    assert removed == ["cart.items", "cart.total", "gone"]
    store.update("app", "e1", EndpointRequest(metrics={"cart.new": 9.0, "sessions": 4.0}))
    e1 = store.get("app", "e1")
    assert e1 is not None
    assert e1.metrics == {"cart.items": 1.0, "cart.total": 2.0, "sessions": 4.0}


def test_user_attributes_type_and_other_types_untouched(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(attributes={"age": ["1"]},
                                              user=user("u", age=["30"])))
    assert store.remove_attributes("app", "endpoint-user-attributes", ["age"]) == ["age"]
    store.update("app", "e1", EndpointRequest(attributes={"age": ["2"]},
                                              user=user("u", age=["31"])))
    e1 = store.get("app", "e1")
    assert e1 is not None and e1.attributes == {"age": ["2"]}
    assert e1.user == user("u", age=["30"])


def test_removed_names_no_longer_count_toward_the_250(store: Store) -> None:
    store.update("app", "e1", EndpointRequest(attributes={f"a{i}": ["v"] for i in range(250)}))
    with pytest.raises(StoreError, match="250"):
        store.update("app", "e2", EndpointRequest(metrics={"m": 1.0}))
    store.remove_attributes("app", "endpoint-custom-attributes", ["a1?"])  # a10..a19
    store.update("app", "e2", EndpointRequest(metrics={f"m{i}": 1.0 for i in range(10)}))
    with pytest.raises(StoreError, match="250"):
        store.update("app", "e2", EndpointRequest(metrics={"one-more": 1.0}))


@pytest.mark.parametrize(("attribute_type", "names", "path"), [
    ("endpoint-attributes", ["a"], "AttributeType"),
    ("ENDPOINT-CUSTOM-ATTRIBUTES", ["a"], "AttributeType"),
    ("endpoint-custom-attributes", [], "Blacklist"),
    ("endpoint-custom-attributes", ["a", ""], "Blacklist"),
])
def test_remove_attributes_refuses_bad_input(store: Store, attribute_type: str,
                                             names: list[str], path: str) -> None:
    with pytest.raises(StoreError) as info:
        store.remove_attributes("app", attribute_type, names)
    assert info.value.status == 400 and info.value.path == path


# -- the push-channel rule ----------------------------------------------------------------------

def test_a_16th_push_endpoint_retires_the_users_oldest_push_endpoint(store: Store) -> None:
    for i in range(15):
        store.update("app", f"p{i}", EndpointRequest(
            channel_type="GCM", user=user("u"), effective_date=f"2024-01-{i + 10:02d}T00:00:00Z"))
    store.update("app", "p15", EndpointRequest(channel_type="APNS", user=user("u")))
    oldest = store.get("app", "p0")
    assert oldest is not None and oldest.endpoint_status == "INACTIVE"
    assert oldest.user is None or oldest.user.user_id is None
    assert len(store.user_endpoints("app", "u")) == 15
    with pytest.raises(StoreError, match="Exceeded maximum endpoint per user count: 15"):
        store.update("app", "sms", EndpointRequest(channel_type="SMS", user=user("u")))


# -- the backend's transactions -----------------------------------------------------------------

def test_a_write_transaction_is_all_or_nothing(backend: Backend) -> None:
    with backend.write() as txn:
        txn.put("app", EndpointResponse(id="Keep", address="a", user=EndpointUser(user_id="u")))
    with pytest.raises(RuntimeError), backend.write() as txn:
        txn.put("app", EndpointResponse(id="keep", address="b"))
        txn.put("app", EndpointResponse(id="new", address="a"))
        txn.set_user_attributes("app", "u", {"k": ["v"]})
        txn.add_names("app", [("Attributes", "k")])
        txn.remove_names("app", "Metrics", [], ["m*"])
        txn.delete("app", "keep")
        raise RuntimeError("abort")
    with backend.read() as view:
        assert [ep.id for ep in view.endpoints("app")] == ["Keep"]
        assert [ep.id for ep in view.by_address("app", "a")] == ["Keep"]
        assert view.by_address("app", "b") == []
        assert [ep.id for ep in view.by_user("app", "u")] == ["Keep"]
        assert view.user_attributes("app", "u") is None
        assert view.names("app") == set() and view.removed("app", "Metrics") == set()
        assert view.count("app") == 1 and view.count("other") == 0


def test_concurrent_batches_never_admit_a_16th_endpoint_per_user(store: Store) -> None:
    refused: list[str] = []

    def write(thread: int) -> None:
        items = [EndpointBatchItem(id=f"t{thread}-{i}", user=user("u")) for i in range(4)]
        try:
            store.update_batch("app", items)
        except StoreError as exc:
            refused.append(exc.message)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 15 // 4 = 3 whole batches fit; every other batch is refused whole
    assert len(store.user_endpoints("app", "u")) == 12
    assert len(refused) == 5
    assert all(m.endswith("Exceeded maximum endpoint per user count: 15") for m in refused)
