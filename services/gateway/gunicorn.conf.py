"""gunicorn settings of the gateway: more threads and a longer timeout, as each request waits on a service."""
from crm_platform.gunicorn_config import settings_for

globals().update(settings_for("gateway", threads=8, timeout_s=60))  # gunicorn reads the module's names
