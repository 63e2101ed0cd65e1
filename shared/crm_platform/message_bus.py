"""The message bus (cosmicpython's): a command goes to its one handler, an event to every handler of its type.

Handlers are plain functions whose first parameter is the message and whose
other parameters are dependencies, injected by name once, at bootstrap:
`MessageBus.build(commands, events, dependencies)`. A dependency given as
`Fresh(factory)` is made anew for each message (a unit of work is entered by
one thread at a time, and gunicorn runs several).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

if TYPE_CHECKING:
    from crm_platform.envelope import EventEnvelope
    from crm_platform.event_codec import EventCodec

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Fresh:
    """A dependency built anew for every message handled."""

    factory: Callable[[], Any]


class NoHandler(LookupError):
    """A command was sent that no handler takes: a wiring mistake."""


def inject(handler: Handler, dependencies: Mapping[str, Any]) -> Callable[[object], Any]:
    """`handler` with the dependencies it names bound; it then takes the message alone."""
    names = list(inspect.signature(handler).parameters)[1:]
    missing = [name for name in names if name not in dependencies
               and inspect.signature(handler).parameters[name].default is inspect.Parameter.empty]
    if missing:
        raise NoHandler(f"{handler.__qualname__} needs {', '.join(missing)}, which bootstrap does not provide")
    fixed = {name: dependencies[name] for name in names if name in dependencies and not isinstance(dependencies[name], Fresh)}
    fresh = {name: dependencies[name].factory for name in names if isinstance(dependencies.get(name), Fresh)}

    def handle(message: object) -> Any:
        return handler(message, **fixed, **{name: make() for name, make in fresh.items()})

    handle.__qualname__ = handler.__qualname__
    return handle


class MessageBus:
    def __init__(self, command_handlers: Mapping[type, Callable[[object], Any]],
                 event_handlers: Mapping[type, Iterable[Callable[[object], Any]]]) -> None:
        self._commands = dict(command_handlers)
        self._events = {event_type: list(handlers) for event_type, handlers in event_handlers.items()}

    @classmethod
    def build(cls, command_handlers: Mapping[type, Handler], event_handlers: Mapping[type, Iterable[Handler]],
              dependencies: Mapping[str, Any]) -> "MessageBus":
        """A bus whose handlers have their dependencies injected once."""
        return cls({command: inject(handler, dependencies) for command, handler in command_handlers.items()},
                   {event: [inject(handler, dependencies) for handler in handlers]
                    for event, handlers in event_handlers.items()})

    def handle(self, message: object) -> Any:
        """Run a command's handler and return its result, or every handler of an event."""
        handler = self._commands.get(type(message))
        if handler is not None:
            return handler(message)
        handlers = self._events.get(type(message))
        if handlers is None:
            raise NoHandler(f"no handler for {type(message).__name__}")
        for handler in handlers:
            handler(message)
        return None

    def event_types(self) -> set[str]:
        """Names of the events some handler takes (a consumer decodes only those)."""
        return {event.event_type() if hasattr(event, "event_type") else event.__name__ for event in self._events}


class EventsToBus:
    """A consumer's handler: each envelope that some handler subscribes to, decoded into its typed event, to the bus.

    Envelopes of other types are passed over without being decoded (no key read to open personal fields).
    """

    def __init__(self, codec: "EventCodec", bus: MessageBus) -> None:
        self._codec = codec
        self._bus = bus
        self._wanted = {name for name in bus.event_types() if codec.knows(name)}

    def __call__(self, envelope: "EventEnvelope") -> None:
        if envelope.event_type in self._wanted:
            self._bus.handle(self._codec.from_envelope(envelope))
