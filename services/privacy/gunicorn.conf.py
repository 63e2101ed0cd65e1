"""gunicorn settings of the privacy API: the platform's, for this registry entry."""
from crm_platform.gunicorn_config import settings_for

globals().update(settings_for("privacy"))  # gunicorn reads the module's names
