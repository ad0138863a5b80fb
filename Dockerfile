FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY homer_rt ./homer_rt
COPY handlers ./handlers
COPY documents ./documents
COPY storage ./storage
RUN pip install --no-cache-dir .
# The image is for deployment: production mode (refuses a missing or weak JWT_SECRET, the embedded store,
# mock payments) and listening on every interface of the container, where the server's default is loopback.
ENV APP_ENV=production HOST=0.0.0.0 PORT=8001
EXPOSE 8001
CMD ["homer-rt", "serve"]
