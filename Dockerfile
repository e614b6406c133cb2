# The API image: `mydrtv serve` by default; `migrate` and `create-admin` run from the same image.

# The web client, built by Node and copied into the image below; Node itself stays behind.
FROM node:20-slim AS web
WORKDIR /web
# The lock file first: the npm ci layer is reused until the dependencies change.
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY . /tmp/mydrtv
RUN pip install /tmp/mydrtv \
    && rm -rf /tmp/mydrtv \
    && useradd --system --uid 10001 --user-group mydrtv

# The server answers / with the client (app/web_client.py); read-only for the server's user.
COPY --from=web /web/dist /srv/mydrtv/web
ENV MYDRTV_WEB_DIST_DIR=/srv/mydrtv/web

USER mydrtv
# Listen on every interface inside the container; the port is published by compose.
ENV MYDRTV_HOST=0.0.0.0
EXPOSE 8000

ENTRYPOINT ["mydrtv"]
CMD ["serve"]
