FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY homer_rt ./homer_rt
COPY handlers ./handlers
COPY documents ./documents
COPY storage ./storage
RUN pip install --no-cache-dir .
ENV PORT=8001
EXPOSE 8001
CMD ["homer-rt", "serve"]
