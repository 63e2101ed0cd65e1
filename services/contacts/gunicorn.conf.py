"""gunicorn settings of the contacts API; every value can be overridden from the environment."""
import os

from crm_platform.json_logging import gunicorn_logconfig

bind = os.environ.get("BIND", "0.0.0.0:8101")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
accesslog = None  # the app logs each request as JSON
logconfig_dict = gunicorn_logconfig("contacts")
control_socket_disable = True  # no shared ~/.gunicorn socket (two apps per host, read-only root in k8s)



def on_starting(server):
    """Check the environment once, in the master, so a bad variable stops start-up with one clear line."""
    from crm_platform.settings import load_or_exit
    from contacts import config

    load_or_exit(config.load, "contacts")
