# The API image: `mydrtv serve` by default; `migrate` and `create-admin` run from the same image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY . /tmp/mydrtv
RUN pip install /tmp/mydrtv \
    && rm -rf /tmp/mydrtv \
    && useradd --system --uid 10001 --user-group mydrtv

USER mydrtv
# Listen on every interface inside the container; the port is published by compose.
ENV MYDRTV_HOST=0.0.0.0
EXPOSE 8000

ENTRYPOINT ["mydrtv"]
CMD ["serve"]
