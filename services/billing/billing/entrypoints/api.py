"""The billing HTTP API (internal: only the gateway calls it). Views load, send a command, dump."""
from __future__ import annotations

from flask import Flask

from crm_platform.openapi import add_spec_route
from crm_platform.timeline_api import timeline_blueprint
from crm_platform.web import create_service_app

from billing import config
from billing.bootstrap import Container
from billing.entrypoints.credit_notes_api import bp as credit_notes_bp
from billing.entrypoints.invoices_api import bp as invoices_bp
from billing.entrypoints.quotes_api import bp as quotes_bp
from billing.entrypoints.recurring_invoices_api import bp as recurring_invoices_bp
from billing.entrypoints.settings_api import bp as settings_bp


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
    app.register_blueprint(settings_bp)
    app.register_blueprint(invoices_bp)
    app.register_blueprint(credit_notes_bp)
    app.register_blueprint(quotes_bp)
    app.register_blueprint(recurring_invoices_bp)
    app.register_blueprint(timeline_blueprint())  # for the gateway's merged timeline only (unpublished)
    add_spec_route(app, "billing", "1")
    return app
