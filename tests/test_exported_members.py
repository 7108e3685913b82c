"""The public face is exactly `__all__`, and every contract name is importable."""

from __future__ import annotations

import pinpoint_endpoints as pe

CONTRACT = {
    "Client", "AsyncClient", "RetryPolicy",
    "EndpointRequest", "EndpointResponse", "EndpointLocation", "EndpointDemographic",
    "EndpointUser", "MessageBody", "ChannelType",
    "PinpointError", "ServiceError", "TransportError", "ValidationError", "ResponseParseError",
    "CredentialsError",
    "BadRequestException", "ForbiddenException", "NotFoundException",
    "MethodNotAllowedException", "PayloadTooLargeException", "TooManyRequestsException",
    "InternalServerErrorException",
    "EndpointBatchItem", "EndpointBatchRequest", "EndpointsResponse", "AttributesResource",
    "AttributeType",
}


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(pe) if name.isidentifier() and not name.startswith("_")}
    modules = {"testing", "cli"}
    assert public - modules == set(pe.__all__) - {"__version__"}
    assert CONTRACT <= set(pe.__all__)
    assert isinstance(pe.__version__, str)


def test_error_tree_is_as_the_contract_draws_it() -> None:
    assert issubclass(pe.ValidationError, ValueError)
    for name in ("ValidationError", "CredentialsError", "TransportError", "ResponseParseError",
                 "ServiceError"):
        assert issubclass(getattr(pe, name), pe.PinpointError)
    for name in ("BadRequestException", "ForbiddenException", "NotFoundException",
                 "MethodNotAllowedException", "PayloadTooLargeException",
                 "TooManyRequestsException", "InternalServerErrorException"):
        assert issubclass(getattr(pe, name), pe.ServiceError)


def test_emulator_is_importable_from_testing() -> None:
    from pinpoint_endpoints.testing import Emulator

    assert callable(Emulator)
