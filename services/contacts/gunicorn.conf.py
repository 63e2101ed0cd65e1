"""gunicorn settings of the contacts API; every value can be overridden from the environment."""
import os

bind = os.environ.get("BIND", "0.0.0.0:8101")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
accesslog = None  # the app logs each request as JSON
control_socket_disable = True  # no shared ~/.gunicorn socket (two apps per host, read-only root in k8s)
