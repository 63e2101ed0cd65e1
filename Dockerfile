# The image of any service under services/, from the repository root:
#   docker build --build-arg SERVICE=contacts -t crm-contacts .
# The image name is the service's project name (services/<SERVICE>/pyproject.toml).
FROM python:3.11-slim
ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY constraints.txt /app/
COPY shared /app/shared
COPY services/${SERVICE} /app/services/${SERVICE}
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<a directory under services/>" >&2; exit 1; } \
 && pip install --no-cache-dir -c constraints.txt ./shared "./services/${SERVICE}" \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin crm
USER 10001
WORKDIR /app/services/${SERVICE}
# gunicorn reads ./gunicorn.conf.py: the service's app and port come from the registry (crm_platform.gunicorn_config).
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
