"""``WebhookRouter``: registration forms, type checks at registration, composition."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from trove_sdk import EVENT_TYPES, Event, ExecCompleted, FileDeleted, FileWritten, UnknownEvent
from trove_webhooks import ConfigurationError, DeliveryContext, WebhookRouter


def names(router: WebhookRouter, event_type: str) -> list[str]:
    return [h.name.rsplit(".", 1)[-1] for h in router.handlers_for(event_type)]


def test_a_handler_registers_by_event_class() -> None:
    router = WebhookRouter()

    @router.on(FileWritten)
    def index(event: FileWritten) -> None: ...

    assert names(router, "file.written") == ["index"]


def test_a_handler_registers_by_type_name() -> None:
    router = WebhookRouter()

    @router.on("exec.completed")
    def audit(event: Any) -> None: ...

    assert names(router, "exec.completed") == ["audit"]


def test_a_bare_decorator_takes_the_type_from_the_annotation() -> None:
    router = WebhookRouter()

    @router.on
    def index(event: FileWritten) -> None: ...

    assert names(router, "file.written") == ["index"]


def test_a_union_annotation_registers_every_member() -> None:
    router = WebhookRouter()

    @router.on
    def changed(event: FileWritten | FileDeleted) -> None: ...

    assert names(router, "file.written") == ["changed"]
    assert names(router, "file.deleted") == ["changed"]


def test_a_list_of_types_registers_each() -> None:
    router = WebhookRouter()

    @router.on(["snapshot.created", "snapshot.deleted"])
    def snap(event: Any) -> None: ...

    assert router.event_types == ["snapshot.created", "snapshot.deleted"]


def test_several_handlers_per_type_keep_registration_order() -> None:
    router = WebhookRouter()
    router.on("file.written", lambda e: None)

    @router.on("file.written")
    def second(event: Any) -> None: ...

    assert names(router, "file.written") == ["<lambda>", "second"]


def test_typed_handlers_come_before_catch_all_ones() -> None:
    router = WebhookRouter()

    @router.on_any
    def everything(event: Any) -> None: ...

    @router.on(FileWritten)
    def index(event: FileWritten) -> None: ...

    assert names(router, "file.written") == ["index", "everything"]
    assert names(router, "unheard.of") == ["everything"]


def test_a_misspelt_type_fails_at_registration_with_a_suggestion() -> None:
    router = WebhookRouter()
    with pytest.raises(ConfigurationError, match=r"did you mean 'file\.written'"):
        router.on("file.writen")(lambda e: None)


def test_an_unknown_type_far_from_any_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"known types: .*exec\.completed"):
        WebhookRouter().on("zzz")(lambda e: None)


def test_unknown_types_may_be_allowed_for_a_newer_server() -> None:
    router = WebhookRouter(allow_unknown_types=True)
    router.on("agent.dreamt", lambda e: None)
    assert router.event_types == ["agent.dreamt"]


@pytest.mark.parametrize(
    ("name", "hint"), [("*", "on_any"), ("any", "on_any"), ("error", "on_error")]
)
def test_reserved_names_point_to_the_right_method(name: str, hint: str) -> None:
    with pytest.raises(ConfigurationError, match=hint):
        WebhookRouter().on(name)(lambda e: None)


@pytest.mark.parametrize("cls", [Event, UnknownEvent, dict])
def test_a_class_that_is_not_a_specific_event_is_refused(cls: type) -> None:
    with pytest.raises(ConfigurationError):
        WebhookRouter().on(cls)(lambda e: None)


def test_a_handler_without_type_or_annotation_is_refused_with_the_ways_to_fix_it() -> None:
    with pytest.raises(ConfigurationError, match=r"@router.on\(FileWritten\)"):
        WebhookRouter().on(lambda event: None)


def test_an_annotation_that_contradicts_the_registered_type_is_refused() -> None:
    router = WebhookRouter()
    with pytest.raises(ConfigurationError, match="annotated ExecCompleted"):

        @router.on("file.written")
        def wrong(event: ExecCompleted) -> None: ...


def test_a_handler_that_takes_no_argument_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="must accept 1 positional"):
        WebhookRouter().on("file.written")(lambda: None)


def test_an_error_handler_must_accept_the_event_and_the_error() -> None:
    with pytest.raises(ConfigurationError, match="must accept 2 positional"):
        WebhookRouter().on_error(lambda event: None)


def test_a_second_parameter_means_the_handler_wants_the_context() -> None:
    router = WebhookRouter()

    @router.on(FileWritten)
    def with_context(event: FileWritten, context: DeliveryContext) -> None: ...

    @router.on(FileWritten)
    def without(event: FileWritten) -> None: ...

    flags = [h.takes_context for h in router.handlers_for("file.written")]
    assert flags == [True, False]


def test_async_handlers_and_async_partials_are_recognised_at_registration() -> None:
    router = WebhookRouter()

    async def handler(event: FileWritten, tag: str) -> None: ...

    router.on("file.written", functools.partial(handler, tag="x"))
    router.on("file.written", lambda e: None)
    assert [h.is_async for h in router.handlers_for("file.written")] == [True, False]


def test_included_routers_contribute_their_handlers_even_ones_added_later() -> None:
    parent, child = WebhookRouter(), WebhookRouter()
    parent.include(child)

    @child.on(FileWritten)
    def late(event: FileWritten) -> None: ...

    assert names(parent, "file.written") == ["late"]


def test_including_a_router_into_itself_is_refused() -> None:
    parent, child = WebhookRouter(), WebhookRouter()
    parent.include(child)
    with pytest.raises(ConfigurationError, match="cycle"):
        child.include(parent)


def test_every_catalogued_type_can_be_registered_by_its_class() -> None:
    router = WebhookRouter()
    for cls in EVENT_TYPES.values():
        router.on(cls, lambda e: None)
    assert router.event_types == sorted(EVENT_TYPES)
