"""The workflows HTTP API (internal: only the gateway calls it): the app factory."""
from __future__ import annotations

from flask import Flask, jsonify

from crm_platform.openapi import build_spec
from crm_platform.timeline_api import timeline_blueprint
from crm_platform.web import create_service_app

from workflows import config
from workflows.bootstrap import Container
from workflows.entrypoints import boards_api, cards_api, tasks_api


def create_app(settings: dict | None = None) -> Flask:
    container = Container(settings or config.load())
    app = create_service_app(
        config.SERVICE_NAME,
        log_level=container.settings["LOG_LEVEL"],
        required_checks={"mongodb": container.mongo.answers},
        reported_checks={"kafka": container.kafka_answers},
        internal_token=container.settings["INTERNAL_TOKEN"],
        metrics_token=container.settings["METRICS_TOKEN"],
    )
    app.extensions["container"] = container
    app.register_blueprint(boards_api.bp)
    app.register_blueprint(cards_api.bp)
    app.register_blueprint(tasks_api.bp)
    app.register_blueprint(tasks_api.settings_bp)
    app.register_blueprint(timeline_blueprint())  # for the gateway's merged timeline only (unpublished)
    app.add_url_rule("/openapi.json", "openapi", lambda: jsonify(build_spec(app, "workflows", "1")))
    return app
