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
# A service's system libraries, if it lists any (billing: Pango, HarfBuzz's subsetter and a font, for WeasyPrint:
# without libharfbuzz-subset0 it subsets fonts with fontTools, ten times slower).
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<a directory under services/>" >&2; exit 1; } \
 && if [ -f "services/${SERVICE}/apt-packages.txt" ]; then \
      apt-get update && xargs -a "services/${SERVICE}/apt-packages.txt" apt-get install -y --no-install-recommends \
      && rm -rf /var/lib/apt/lists/*; fi \
 && pip install --no-cache-dir -c constraints.txt ./shared "./services/${SERVICE}" \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin crm
USER 10001
WORKDIR /app/services/${SERVICE}
# gunicorn reads ./gunicorn.conf.py: the service's app and port come from the registry (crm_platform.gunicorn_config).
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
