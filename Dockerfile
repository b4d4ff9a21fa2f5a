FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fhir_server ./fhir_server
COPY resources ./resources
COPY terminology ./terminology
COPY seed_bundles ./seed_bundles
COPY views ./views
RUN pip install --no-cache-dir -e .
ENV FHIR_STORE=sqlite:///data/fhir.db
# listening beyond loopback needs authentication: register clients with
# `fhir-server clients add` (their file, the signing key and exports live in /app/data)
ENV FHIR_AUTH=smart
VOLUME /app/data
EXPOSE 8080
CMD ["fhir-server", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
