"""The privacy HTTP API (internal: only the gateway calls it): the app factory."""
from __future__ import annotations

from flask import Flask, jsonify

from crm_platform.openapi import build_spec
from crm_platform.web import create_service_app

from privacy import config
from privacy.bootstrap import Container
from privacy.entrypoints import requests_api


def create_app(settings: dict | None = None) -> Flask:
    container = Container(config.required_by_api(settings) if settings else config.load_api())
    app = create_service_app(
        config.SERVICE_NAME,
        log_level=container.settings["LOG_LEVEL"],
        required_checks={"mongodb": container.mongo.answers},
        reported_checks={"kafka": container.kafka_answers},
        internal_token=container.settings["INTERNAL_TOKEN"],
        metrics_token=container.settings["METRICS_TOKEN"],
    )
    app.extensions["container"] = container
    app.register_blueprint(requests_api.bp)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(build_spec(app, "privacy", "1")))
    return app
