"""Local development infrastructure: a single-node Kafka broker and a MongoDB-compatible server.

Operator entry point: ``python -m devinfra up|status|down|env|provision``.
Test API: :class:`devinfra.kafka.KafkaBroker`, :class:`devinfra.mongo.MongoServer`,
:class:`devinfra.postgres.PostgresServer`, :func:`devinfra.ports.free_port`.
"""

from .processes import InfraError, PrereqError

__all__ = ["InfraError", "PrereqError"]
