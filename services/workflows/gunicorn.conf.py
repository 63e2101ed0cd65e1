"""gunicorn settings of the workflows API: the platform's, for this registry entry."""
from crm_platform.gunicorn_config import settings_for

globals().update(settings_for("workflows"))  # gunicorn reads the module's names
